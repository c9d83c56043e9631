import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostAggregateYaml, hostProvider, sweepNamespaceNodes } from '../../test/support/bays/cluster.js';
import { OperatorProcess } from '../../test/support/bays/operator.js';
import { startKubeEnv } from '../../test/support/kube-env.js';
import { ensureOperatorNamespace, mustKubectl, type Kubectl } from '../../test/support/kubectl.js';
import { lxdTestHost, testNodeImage } from '../../test/support/lxd/index.js';
import { repoRoot } from '../../test/support/paths.js';

/** What a benchmark on one real bay works with once the bay is Ready. */
/** How the real-host benchmarks run the operator: hosts probed every 5 s, bays resynced every 30 s. */
export const BENCH_OPERATOR_ARGS: readonly string[] = ['--probe-interval', '5', '--resync', '30', '--log-level', 'info'];

export interface RealBay {
  readonly kubectl: Kubectl;
  readonly kubeconfigPath: string;
  readonly operator: OperatorProcess;
}

export interface RealBayOptions {
  /** The bay's namespace and the aggregate's name (nodes left by a crashed run are swept by namespace). */
  readonly namespace: string;
  readonly aggregate: string;
  readonly bay: string;
  /** The Bay manifest; it selects the aggregate's `suite: e2e` metadata. */
  readonly bayYaml: string;
}

/**
 * The set-up the real-host benchmarks share: the LXD host and node image, a test apiserver, the
 * operator as a process, an aggregate for the host and one bay, Ready. The bay is deleted while the
 * operator still runs (its finalizer deletes the nodes), then everything is stopped and swept.
 */
export async function withRealBay<T>(options: RealBayOptions, body: (bench: RealBay) => Promise<T>): Promise<T> {
  const host = await lxdTestHost();
  await testNodeImage(host);
  const provider = hostProvider(host);
  const env = await startKubeEnv();
  const operator = new OperatorProcess(env.kubeconfigPath, BENCH_OPERATOR_ARGS);
  const { namespace, bay } = options;
  try {
    await sweepNamespaceNodes(provider, namespace);
    await ensureOperatorNamespace(env.kubectl);
    await mustKubectl(env.kubectl, ['create', 'namespace', namespace]);
    await mustKubectl(env.kubectl, ['apply', '-f', '-'], { input: hostAggregateYaml(options.aggregate, host) });
    operator.start();
    await mustKubectl(env.kubectl, [
      'wait',
      '--for=condition=Ready',
      '--timeout=120s',
      `hostaggregate/${options.aggregate}`,
    ]);
    await mustKubectl(env.kubectl, ['apply', '-f', '-'], { input: options.bayYaml });
    const waited = await env.kubectl([
      'wait',
      '-n',
      namespace,
      '--for=condition=Ready',
      '--timeout=600s',
      `bay/${bay}`,
    ]);
    if (waited.code !== 0) throw new Error(`${bay} not Ready: ${waited.stderr}\n${operator.logTail()}`);
    return await body({ kubectl: env.kubectl, kubeconfigPath: env.kubeconfigPath, operator });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${operator.logTail()}`, { cause: err });
  } finally {
    await env.kubectl(['delete', 'bay', bay, '-n', namespace, '--ignore-not-found', '--timeout=300s']);
    await operator.stop();
    await sweepNamespaceNodes(provider, namespace);
    provider.close();
    await env.stop();
  }
}

/** Writes `bench/results/<name>.json`. */
export async function writeResults(name: string, result: unknown): Promise<void> {
  const out = join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, `${name}.json`), JSON.stringify(result, null, 2));
}
