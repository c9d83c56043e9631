import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Bay } from '../api/types.generated.js';
import { NEEDS_A_PERSON } from '../controllers/bay/reasons.js';
import { BAY } from '../controllers/kinds.js';
import { isNotFound } from '../runtime/errors.js';
import { KubeClient } from '../runtime/kube-client.js';
import type { BayRef } from './credentials.js';

/** Exit codes of `marina wait`, documented in its help. */
export const WAIT_EXIT = { ready: 0, failed: 1, usage: 2, timeout: 3 } as const;

export type OutputFormat = 'text' | 'json' | 'yaml';

export interface WaitOptions extends BayRef {
  readonly timeoutMs: number;
  readonly output: OutputFormat;
  readonly pollMs?: number;
  /** Where progress goes: stderr, rewritten in place on a terminal, a line per change otherwise. */
  readonly progress?: NodeJS.WriteStream;
}

/** One line of progress: phase, nodes ready of desired, elapsed, and what the first unmet condition says. */
export function progressLine(bay: Bay | undefined, elapsedMs: number): string {
  const elapsed = `${Math.floor(elapsedMs / 1000)}s`;
  if (!bay) return `${elapsed} waiting for the bay to exist`;
  const status = bay.status;
  const desired = Math.max(bay.spec.nodes, status?.autoscale?.target ?? 0);
  const nodes = status?.nodes ?? [];
  const byState = ['Pending', 'Provisioning', 'Running', 'Ready', 'Draining', 'Retiring', 'Lost']
    .map((state) => [state, nodes.filter((n) => n.state === state).length] as const)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state.toLowerCase()}`);
  const unmet = status?.conditions?.find((c) => c.type !== 'Ready' && c.status !== 'True');
  const why = unmet ? ` — ${unmet.type} ${unmet.reason}: ${unmet.message}` : '';
  return `${elapsed} ${status?.phase ?? 'Pending'}: ${status?.readyNodes ?? 0}/${desired} nodes ready${byState.length ? ` (${byState.join(', ')})` : ''}${why}`;
}

/** Ready for its current generation, stopped on something that needs a person, or still on its way. */
export function verdictOf(bay: Bay | undefined): 'ready' | 'failed' | 'waiting' {
  const ready = bay?.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True' && ready.observedGeneration === bay?.metadata.generation) return 'ready';
  if (bay?.status?.phase === 'Failed' || (ready?.status === 'False' && NEEDS_A_PERSON.has(ready.reason)))
    return 'failed';
  return 'waiting';
}

/**
 * `marina wait BAY`: polls the bay until it is Ready for its current generation, showing progress.
 * Prints the bay (text: its endpoint; json/yaml: the object) and exits 0; 1 when the bay failed,
 * 3 when the timeout passed first.
 */
export async function waitForBay(options: WaitOptions): Promise<number> {
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  const namespace =
    options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  const out = options.progress ?? process.stderr;
  const started = Date.now();
  let last = '';
  const show = (line: string): void => {
    if (line === last) return;
    if (out.isTTY) out.write(`\r\x1b[2K${line.slice(0, Math.max(20, (out.columns ?? 120) - 1))}`);
    else out.write(`${line}\n`);
    last = line;
  };
  try {
    for (;;) {
      const bay = await readBay(client, namespace, options.bay);
      show(progressLine(bay, Date.now() - started));
      const verdict = verdictOf(bay);
      if (verdict !== 'waiting' || Date.now() - started >= options.timeoutMs) {
        if (out.isTTY) out.write('\n');
        if (verdict === 'ready') printBay(bay!, options.output);
        else
          out.write(
            `${verdict === 'failed' ? stoppedMessage(bay, namespace, options.bay) : timeoutMessage(options, namespace)}\n`,
          );
        return verdict === 'ready' ? WAIT_EXIT.ready : verdict === 'failed' ? WAIT_EXIT.failed : WAIT_EXIT.timeout;
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
    }
  } finally {
    client.close();
  }
}

function stoppedMessage(bay: Bay | undefined, namespace: string, name: string): string {
  const ready = bay?.status?.conditions?.find((c) => c.type === 'Ready');
  return `bay ${namespace}/${name} needs a person: ${ready?.reason ?? 'Failed'}: ${ready?.message ?? ''} (kubectl describe bay ${name} -n ${namespace})`;
}

function timeoutMessage(options: WaitOptions, namespace: string): string {
  const seconds = Math.round(options.timeoutMs / 1000);
  return `timed out after ${seconds}s; the bay is still on its way: marina wait ${options.bay} -n ${namespace} again, or kubectl describe bay ${options.bay} -n ${namespace}`;
}

async function readBay(client: KubeClient, namespace: string, name: string): Promise<Bay | undefined> {
  try {
    return await client.get<Bay>(BAY, { namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function printBay(bay: Bay, output: OutputFormat): void {
  if (output === 'json') console.log(JSON.stringify(bay, null, 2));
  else if (output === 'yaml') console.log(stringify(bay).trimEnd());
  else
    console.log(
      `bay ${bay.metadata.namespace}/${bay.metadata.name} is Ready at ${bay.status?.endpoint ?? '?'}; next: marina env ${bay.metadata.name} -n ${bay.metadata.namespace}`,
    );
}
