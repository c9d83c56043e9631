import { describe, expect, it } from 'vitest';
import { E2E_FLAVOR, getBay } from '../../support/bays/cluster.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { mustKubectl } from '../../support/kubectl.js';
import { waitFor } from '../../support/processes.js';

const env = useBayTestEnvironment('e2e-loop');
const { kubectl, namespace: NS } = env;

/** A module no kernel has: LXD's modprobe fails and the node cannot start. */
const MISSING_MODULE = 'marina_e2e_no_such_module';
const BROKEN = 'e2e-loop-broken';

function brokenAggregateYaml(kernelModules: readonly string[]): string {
  return `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${BROKEN}}
spec:
  metadata: {suite: e2e-broken}
  hosts:
    - {name: localhost, endpoint: "${env.host.socketEndpoint}"}
  network: {mode: shared, bridge: ${env.host.bridge}}
  storagePool: ${env.host.storagePool}
  overcommit: {cpu: 16, memory: 1}
  kernelModules: [${kernelModules.join(', ')}]
`;
}

const bayOnBroken = `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: stuck, namespace: ${NS}}
spec:
  nodes: 1
  flavor: {cpu: ${E2E_FLAVOR.cpu}, memory: ${E2E_FLAVOR.memory}, disk: ${E2E_FLAVOR.disk}}
  aggregateSelector: {matchLabels: {suite: e2e-broken}}
`;

/** Times (ms) at which the operator logged a reconcile of the bay that ended with failures. */
function failedReconciles(name: string): number[] {
  return env.operator
    .logRecords()
    .filter((r) => r['msg'] === 'bay reconciled' && r['name'] === name && Number(r['failures']) > 0)
    .map((r) => Date.parse(String(r['time'])));
}

describe('one error policy', () => {
  it('a node that cannot start: the condition says why at once, retries back off, and fixing the aggregate repairs it', async () => {
    await mustKubectl(kubectl, ['apply', '-f', '-'], { input: brokenAggregateYaml([MISSING_MODULE]) });
    try {
      await mustKubectl(kubectl, ['wait', '--for=condition=Ready', '--timeout=120s', `hostaggregate/${BROKEN}`]);
      const errorsBefore = await env.operator.metric('controller_runtime_reconcile_errors_total', { controller: 'bay' });
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bayOnBroken });

      const stuck = await waitFor('NodeStartFailed', async () => {
        const bay = await getBay(kubectl, NS, 'stuck');
        const nodes = bay.status?.conditions?.find((c) => c.type === 'NodesReady');
        return nodes?.reason === 'NodeStartFailed' ? { bay, nodes } : undefined;
      }, 60_000, 250);
      expect(stuck.nodes.message).toContain(MISSING_MODULE);
      expect(stuck.bay.status?.phase).toBe('Provisioning');
      const node = stuck.bay.status!.nodes![0]!.name;
      // Within the first reconcile that failed: the first failure already wrote the reason.
      expect(failedReconciles('stuck').length).toBeLessThanOrEqual(2);

      // Retries back off: over 40 s a fixed 3 s retry would fail about 13 times; 1, 2, 4, 8, 16 s about 6,
      // and a real change (the aggregate's allocation once the node exists) may wake the bay once or twice.
      await new Promise((resolve) => setTimeout(resolve, 40_000));
      const failures = failedReconciles('stuck');
      const gaps = failures.slice(1).map((t, i) => t - failures[i]!);
      expect(failures.length).toBeGreaterThanOrEqual(4);
      expect(failures.length).toBeLessThanOrEqual(10);
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(7_000);
      expect(await env.operator.metric('controller_runtime_reconcile_errors_total', { controller: 'bay' })).toBeGreaterThanOrEqual(errorsBefore + 4);
      expect(await env.operator.metric('workqueue_retries_total', { name: 'bay' })).toBeGreaterThanOrEqual(4);
      expect(await env.operator.metric('marina_reconcile_errors_total', { controller: 'bay', kind: 'NodeStartFailed' })).toBeGreaterThanOrEqual(4);

      // The admin fixes the aggregate; the node that never ran is reconfigured in place, same name.
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: brokenAggregateYaml([]) });
      await mustKubectl(kubectl, ['wait', '-n', NS, '--for=condition=Ready', '--timeout=180s', 'bay/stuck']);
      const ready = await getBay(kubectl, NS, 'stuck');
      expect(ready.status?.nodes?.map((n) => [n.name, n.state])).toEqual([[node, 'Ready']]);
      const events = await mustKubectl(kubectl, ['get', 'events', '-n', NS, '--field-selector', 'reason=NodeReconfigured', '-o', 'jsonpath={.items[*].message}']);
      expect(events).toContain(`node ${node} had never run workloads; reconfigured: kernel-modules`);
    } finally {
      await kubectl(['delete', 'bay', 'stuck', '-n', NS, '--timeout=120s']);
      await kubectl(['delete', 'hostaggregate', BROKEN, '--wait=false']);
    }
  });
});

describe("marina's own metrics", () => {
  it('describe bays, nodes, provisioning stages, hosts, certificates and swarm members with Prometheus names', async () => {
    await env.applyBay('metered', { nodes: 2 });
    await env.waitReady('metered');
    const m = (name: string, labels: Record<string, string> = {}): Promise<number> => env.operator.metric(name, labels);
    expect(await m('marina_bays', { phase: 'Ready' })).toBeGreaterThanOrEqual(1);
    expect(await m('marina_nodes', { state: 'Ready' })).toBeGreaterThanOrEqual(2);
    for (const stage of ['create', 'start', 'address', 'dockerd', 'swarm_join']) {
      expect(await m('marina_node_provisioning_seconds_count', { stage }), stage).toBeGreaterThanOrEqual(1);
    }
    expect(await m('marina_host_probes_total', { aggregate: env.aggregate, host: 'localhost', result: 'Ready' })).toBeGreaterThanOrEqual(1);
    expect(await m('marina_host_ready', { aggregate: env.aggregate, host: 'localhost' })).toBe(1);
    expect(await m('marina_host_calls_total', { operation: 'observe', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(await m('marina_bay_swarm_members', { namespace: NS, bay: 'metered', role: 'manager' })).toBe(1);
    expect(await m('marina_bay_swarm_members', { namespace: NS, bay: 'metered', role: 'worker' })).toBe(1);
    // The earliest expiry is a leaf's: certificateValidity 2160h (90 days) from now.
    const days = ((await m('marina_bay_certificate_expiry_timestamp_seconds', { namespace: NS, bay: 'metered' })) - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThan(91);
    expect(await m('controller_runtime_reconcile_total', { controller: 'bay' })).toBeGreaterThan(0);
  });
});
