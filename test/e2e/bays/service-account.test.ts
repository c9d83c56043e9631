import { describe, expect, it } from 'vitest';
import { getBay } from '../../support/bays/cluster.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { OperatorProcess } from '../../support/bays/operator.js';
import { operatorServiceAccountKubeconfig } from '../../support/bays/service-account.js';
import { mustKubectl } from '../../support/kubectl.js';
import { instanceNames, nodeIndex, ofBay } from '../../support/lxd/index.js';
import { waitFor } from '../../support/processes.js';

const env = useBayTestEnvironment('e2e-sa');
const { kubectl, namespace: NS } = env;

/** Short lease timings, so the standby takes over within seconds of the leader's death. */
const REPLICA_ARGS = ['--leader-elect', '--lease-duration', '6', '--renew-deadline', '4', '--retry-period', '1', '--probe-interval', '5', '--resync', '10'];

function leaderOf(replicas: readonly OperatorProcess[]): OperatorProcess | undefined {
  return replicas.find((r) => r.running && r.logRecords().some((l) => l['msg'] === 'became leader'));
}

describe("the operator under its own ServiceAccount (deploy/operator.yaml's RBAC, not cluster admin)", () => {
  it('two replicas elect a leader; SIGKILL of the leader mid-provisioning, and the standby finishes the bay with no twin', async () => {
    // The file's own operator runs as admin: it gives way to the two replicas under the ServiceAccount.
    await env.operator.stop();
    const kubeconfig = await operatorServiceAccountKubeconfig(kubectl, env.kubeconfig);
    const replicas = [new OperatorProcess(kubeconfig, REPLICA_ARGS), new OperatorProcess(kubeconfig, REPLICA_ARGS)];
    try {
      for (const r of replicas) r.start();
      const leader = await waitFor('a leader', async () => leaderOf(replicas), 60_000, 250);
      const standby = replicas.find((r) => r !== leader)!;
      await env.applyBay('elected', { nodes: 3 });
      const uid = await waitFor('the bay uid', async () => (await getBay(kubectl, NS, 'elected')).metadata.uid || undefined, 30_000);
      await waitFor('the first instance', async () => ((await instanceNames(env.lxc, ofBay(uid))).length > 0 ? true : undefined), 120_000, 100);
      await leader.kill();

      await waitFor('the standby to lead', async () => (leaderOf([standby]) ? true : undefined), 60_000, 250);
      const bay = await env.waitReady('elected');
      expect(bay.status?.readyNodes).toBe(3);
      const instances = (await env.lxc.list()).filter(ofBay(uid));
      expect(instances.map(nodeIndex).sort()).toEqual([0, 1, 2]);
      // Nothing was refused for want of a right: the shipped RBAC is enough.
      const forbidden = [...leader.logLines(), ...standby.logLines()].filter((l) => l.includes('Forbidden') || l.includes(' 403 '));
      expect(forbidden).toEqual([]);
      await mustKubectl(kubectl, ['delete', 'bay', 'elected', '-n', NS, '--timeout=180s']);
      expect(await instanceNames(env.lxc, ofBay(uid))).toEqual([]);
    } finally {
      for (const r of replicas) await r.stop();
    }
  });
});
