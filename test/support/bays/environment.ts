import { afterAll, beforeAll, inject } from 'vitest';
import { kubectlFor, mustKubectl, type Kubectl } from '../kubectl.js';
import { inNamespace, lxcFor, lxdTestHost, sweepInstances, testNodeImage } from '../lxd/index.js';
import type { LxcCli, LxdTestHost } from '../lxd/index.js';
import { bayYaml, getBay, hostAggregateYaml, type BaySpecInput, type BayView } from './cluster.js';
import { OperatorProcess } from './operator.js';

export interface BayTestEnvironment {
  readonly namespace: string;
  readonly aggregate: string;
  readonly kubeconfig: string;
  readonly kubectl: Kubectl;
  /** Set once beforeAll has run. */
  host: LxdTestHost;
  /** The real `lxc` CLI on the host: how a test looks at nodes (and interferes with them) behind marina's back. */
  lxc: LxcCli;
  operator: OperatorProcess;
  applyBay(name: string, spec: BaySpecInput): Promise<void>;
  /** kubectl wait for Ready; on failure the error carries the bay's status and the operator's last log lines. */
  waitReady(name: string): Promise<BayView>;
}

/**
 * The set-up every bay e2e file shares: the real LXD host and node image, a tenant namespace, a
 * HostAggregate for the local host, and `marina run` as a process. Registers its own beforeAll and
 * afterAll; everything the file's bays leave on the host is swept afterwards.
 */
export function useBayTestEnvironment(namespace: string, aggregate = `${namespace}-local`): BayTestEnvironment {
  const kubeconfig = inject('kubeconfigPath');
  const kubectl = kubectlFor(kubeconfig, inject('kubeBinDir'));
  const env = {
    namespace,
    aggregate,
    kubeconfig,
    kubectl,
    async applyBay(name: string, spec: BaySpecInput) {
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bayYaml(name, namespace, spec) });
    },
    async waitReady(name: string) {
      const waited = await kubectl(['wait', '-n', namespace, '--for=condition=Ready', '--timeout=300s', `bay/${name}`]);
      if (waited.code !== 0) {
        const status = JSON.stringify((await getBay(kubectl, namespace, name)).status, null, 1);
        throw new Error(`bay ${name} not Ready: ${waited.stderr}\n${status}\n${env.operator.logTail()}`);
      }
      return getBay(kubectl, namespace, name);
    },
  } as BayTestEnvironment;

  beforeAll(async () => {
    env.host = await lxdTestHost();
    await testNodeImage(env.host);
    env.lxc = lxcFor(env.host);
    await sweepInstances(env.lxc, inNamespace(namespace));
    await mustKubectl(kubectl, ['create', 'namespace', namespace]);
    await mustKubectl(kubectl, ['label', 'namespace', namespace, 'tenant=true']);
    await mustKubectl(kubectl, ['apply', '-f', '-'], { input: hostAggregateYaml(aggregate, env.host) });
    env.operator = new OperatorProcess(kubeconfig);
    env.operator.start();
    await mustKubectl(kubectl, ['wait', '--for=condition=Ready', '--timeout=120s', `hostaggregate/${aggregate}`]);
  });

  afterAll(async () => {
    // Bays go first, while the operator still runs their finalizers: a bay left behind would be
    // reconciled by the next file's operator, which would replace the nodes swept below.
    await kubectl(['delete', 'bays', '--all', '-n', namespace, '--timeout=180s']);
    await env.operator?.stop();
    // Released nodes (Retain) too: they carry the namespace key whatever marina thinks of them.
    if (env.lxc) await sweepInstances(env.lxc, inNamespace(namespace));
    // A bay whose deletion did not finish (a failed test) is released by hand: its nodes were swept.
    const left = (await kubectl(['get', 'bays', '-n', namespace, '-o', 'name'])).stdout.split('\n').filter(Boolean);
    for (const bay of left) await kubectl(['patch', bay, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await kubectl(['delete', 'namespace', namespace, '--timeout=60s']);
    await kubectl(['delete', 'hostaggregate', aggregate, '--wait=false']);
  });

  return env;
}
