import { OPERATOR_NAMESPACE } from '../../support/kubectl.js';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Bay } from '../../../src/api/types.generated.js';
import { SECRET, type SecretObject } from '../../../src/controllers/kinds.js';
import { nodeName } from '../../../src/controllers/bay/names.js';
import { SimOperator } from '../../support/bays/sim-operator.js';

const kubeconfigPath = inject('kubeconfigPath');
const kubeBinDir = inject('kubeBinDir');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let sim: SimOperator | undefined;
const start = async (options: Parameters<typeof SimOperator.start>[2] = {}): Promise<SimOperator> => (sim = await SimOperator.start(kubeconfigPath, kubeBinDir, options));

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const secretsOf = async (s: SimOperator, bay: string): Promise<SecretObject[]> =>
  (await s.client.list<SecretObject>(SECRET, { namespace: s.namespace, labelSelector: `marina.dev/bay=${bay}` })).items;
/** The bay's CA, marina's client and its nodes' keys, kept in the operator's namespace. */
const internalSecretsOf = async (s: SimOperator, bayUid: string): Promise<SecretObject[]> =>
  (await s.client.list<SecretObject>(SECRET, { namespace: OPERATOR_NAMESPACE, labelSelector: `marina.dev/bay-uid=${bayUid}` })).items;

describe('deletion (simulated hosts, real apiserver)', () => {
  it('Delete removes every instance and Secret of the bay; Retain keeps the instances running, released, and the credentials', async () => {
    const s = await start();
    await s.applyBay('gone', { nodes: 2, deletionPolicy: 'Delete' });
    await s.applyBay('kept', { nodes: 2, deletionPolicy: 'Retain' });
    const gone = await s.waitReady('gone');
    const kept = await s.waitReady('kept');
    expect(s.nodesOf(gone)).toHaveLength(2);
    // CA, marina's client and one key per node.
    expect(await internalSecretsOf(s, gone.metadata.uid!)).toHaveLength(4);
    await s.kubectl(['delete', 'bay', 'gone', 'kept', '-n', s.namespace, '--timeout=60s']);

    expect(s.nodesOf(gone)).toEqual([]);
    expect(await secretsOf(s, 'gone')).toEqual([]);
    expect(await internalSecretsOf(s, gone.metadata.uid!)).toEqual([]);
    expect(await internalSecretsOf(s, kept.metadata.uid!)).toEqual([]);

    const retained = s.nodesOf(kept);
    expect(retained.map((i) => [i.status, i.config['user.marina.managed']])).toEqual([['Running', 'false'], ['Running', 'false']]);
    const released = await secretsOf(s, 'kept');
    expect(released.map((x) => x.metadata.name)).toEqual(['kept-credentials']);
    expect(released.every((x) => !(x.metadata.ownerReferences ?? []).some((r) => r.uid === kept.metadata.uid))).toBe(true);
    for (const x of released) await s.client.delete(SECRET, { namespace: s.namespace, name: x.metadata.name! });
  });
});

describe('placement', () => {
  it('bays placed at the same moment never over-pack a host: the nodes that do not fit wait, named Unschedulable', async () => {
    // One host with 4 CPUs and no overcommit: room for exactly four 1-CPU nodes.
    const s = await start({ world: { defaultHost: { cpu: 4 } }, overcommit: { cpu: 1, memory: 1 } });
    await Promise.all(['a', 'b', 'c'].map((name) => s.applyBay(name, { nodes: 2 })));
    await s.waitFor('four nodes placed and two waiting', async () => {
      const bays = await Promise.all(['a', 'b', 'c'].map((n) => s.bay(n)));
      const waiting = bays.filter((b) => b.status?.conditions?.find((c) => c.type === 'NodesReady')?.reason === 'Unschedulable');
      return s.world.instances(s.hostName('host-a')).length === 4 && waiting.length >= 1 ? bays : undefined;
    });
    await sleep(2_000);
    const instances = s.world.instances(s.hostName('host-a'));
    expect(instances).toHaveLength(4);
    expect(instances.reduce((sum, i) => sum + Number(i.config['limits.cpu']), 0)).toBeLessThanOrEqual(4);
  });
});

describe('faults on the host', () => {
  it('a host failing mid-create (the work done, the answer lost) leaves no twin: the next reconcile adopts it', async () => {
    const s = await start();
    s.world.injectFault({ kind: 'unreachable', operation: 'ensure-node', when: 'after', times: 2 });
    await s.applyBay('flaky', { nodes: 3 });
    const bay = await s.waitReady('flaky');
    const nodes = s.nodesOf(bay);
    expect(nodes.map((n) => n.config['user.marina.node.index']).sort()).toEqual(['0', '1', '2']);
    expect(bay.status?.nodes?.map((n) => n.index)).toEqual([0, 1, 2]);
    expect(new Set(bay.status?.nodes?.map((n) => n.swarmNodeID)).size).toBe(3);
  });

  it('a node that fails to start is retried with backoff, counted as an error, and the bay recovers', async () => {
    const s = await start();
    s.world.injectFault({ kind: 'operation-failed', operation: 'start-node', times: 3, message: 'Failed to start: the host is busy' });
    await s.applyBay('slow', { nodes: 1 });
    const c = await s.waitReason('slow', 'NodesReady', 'NodeStartFailed');
    expect(c.message).toContain('the host is busy');
    await s.waitReady('slow');
    expect(await s.metric('controller_runtime_reconcile_errors_total', { controller: 'bay' })).toBeGreaterThanOrEqual(3);
    expect(await s.metric('workqueue_retries_total', { name: 'bay' })).toBeGreaterThanOrEqual(3);
    expect(await s.metric('marina_reconcile_errors_total', { controller: 'bay', kind: 'NodeStartFailed' })).toBe(3);
  });

  it('a node never ready within its startup timeout is restarted, once per timeout, the same instance, and the bay recovers', async () => {
    const s = await start({ startupMs: 5_000 });
    const name = nodeName('stuck', s.namespace, 0);
    const host = s.hostName('host-a');
    // The host refuses every file push into this node, as an LXD host once did until the node restarted.
    const refusal = s.world.injectFault({ kind: 'api', operation: 'push-file', node: name, times: Infinity, message: 'dial unix forkfile.sock: connect: no such file or directory' });
    await s.applyBay('stuck', { nodes: 1 });
    const event = await s.waitFor('a NodeStartupTimedOut Event', async () => {
      const out = await s.kubectl(['get', 'events', '-n', s.namespace, '--field-selector', 'reason=NodeStartupTimedOut', '-o', 'jsonpath={.items[*].note}{.items[*].message}']);
      return out.stdout.trim() || undefined;
    });
    expect(event).toMatch(new RegExp(`node ${name} was not ready \\d+ s after it started \\(.*forkfile.*\\); it had never run workloads, so marina restarted it`));
    const instance = s.world.instance(host, name)!;
    // Started again once the timeout had passed since its first start (at its creation, give or take).
    expect(s.world.callCount(host, 'stop-node')).toBe(1);
    expect(instance.startedAt! - instance.createdAt).toBeGreaterThanOrEqual(5_000);
    // Not again before the timeout has passed since this start.
    await sleep(2_000);
    expect(s.world.callCount(host, 'stop-node')).toBe(1);

    refusal.clear();
    const bay = await s.waitReady('stuck');
    // Restarted, not replaced: the same instance, under its name.
    expect(s.world.instance(host, name)).toBe(instance);
    expect(bay.status?.nodes?.map((n) => n.name)).toEqual([name]);
  });

  it('a name taken by something else is terminal: the bay says so and waits for a change instead of retrying', async () => {
    const s = await start();
    // An instance marina does not manage already has the name node 0 of bay "taken" will get.
    const name = nodeName('taken', s.namespace, 0);
    s.world.addForeignInstance(s.hostName('host-a'), { name });
    await s.applyBay('taken', { nodes: 1 });
    const c = await s.waitReason('taken', 'NodesReady', 'NodeNameConflict');
    expect(c.message).toContain('the name is taken by an instance marina does not manage');
    const ensures = s.world.callCount(s.hostName('host-a'), 'ensure-node');
    await sleep(3_000);
    expect(s.world.callCount(s.hostName('host-a'), 'ensure-node')).toBe(ensures);
    expect(await s.metric('controller_runtime_terminal_reconcile_errors_total', { controller: 'bay' })).toBeGreaterThanOrEqual(1);

    // The admin removes the stranger and touches the bay: it goes on at once.
    s.world.deleteInstance(s.hostName('host-a'), name);
    await s.kubectl(['annotate', 'bay', 'taken', '-n', s.namespace, 'example.com/retry=1']);
    await s.waitReady('taken');
  });

  it('a Secret with marina’s name that the bay does not own is never adopted nor overwritten, and is reported', async () => {
    const s = await start();
    const foreign: SecretObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mine-credentials', namespace: s.namespace }, type: 'Opaque', data: { note: Buffer.from('not marina’s').toString('base64') } };
    await s.client.create(SECRET, foreign);
    // A Secret under the name an earlier release gave the CA is not marina's to move either.
    await s.client.create(SECRET, { ...foreign, metadata: { name: 'mine-ca', namespace: s.namespace } });
    await s.applyBay('mine', { nodes: 1 });
    const c = await s.waitReason('mine', 'Ready', 'SecretConflict');
    expect(c.message).toContain(`Secret ${s.namespace}/mine-credentials exists but does not belong to this bay`);
    for (const name of ['mine-credentials', 'mine-ca']) {
      expect((await s.client.get<SecretObject>(SECRET, { namespace: s.namespace, name })).data).toEqual(foreign.data);
    }
  });
});

describe('a node gone behind marina’s back', () => {
  it('is replaced under a new index, never made again under its name, even before the host is observed again', async () => {
    // Hosts observed once a minute: the bay's next reconcile still reads a view that lists the node.
    const s = await start({ probeIntervalMs: 60_000 });
    await s.applyBay('gone', { nodes: 2 });
    const ready = await s.waitReady('gone');
    const victim = ready.status!.nodes!.find((n) => n.role === 'worker')!;
    expect(s.world.deleteInstance(s.hostName(victim.host!), victim.name)).toBe(true);
    await s.kubectl(['annotate', 'bay', 'gone', '-n', s.namespace, 'example.com/poke=1']);

    const bay = await s.waitFor('a replacement Ready', async () => {
      const b = await s.bay('gone');
      return b.status?.phase === 'Ready' && !b.status.nodes?.some((n) => n.name === victim.name) ? b : undefined;
    });
    expect(bay.status!.nodes!.map((n) => n.index)).toEqual([0, 2]);
    expect(s.nodesOf(bay).map((n) => n.name)).not.toContain(victim.name);
    expect(s.nodesOf(bay)).toHaveLength(2);
  });
});

describe('the routing mesh', () => {
  const ingressOf = (s: SimOperator, bay: Bay): boolean | undefined =>
    s.world.swarms.clusterOf(s.nodesOf(bay)[0]!)?.data.ingress;

  it('a bay founded on a kernel without IPVS has no ingress network: no node builds a useless mesh', async () => {
    const s = await start({ world: { defaultHost: { missingModules: ['ip_vs'] } }, kernelModules: [] });
    await s.applyBay('meshless', { nodes: 3 });
    expect(ingressOf(s, await s.waitReady('meshless'))).toBe(false);
  });

  it('a bay founded on a kernel with IPVS keeps the ingress network Docker makes', async () => {
    const s = await start();
    await s.applyBay('meshed', { nodes: 3 });
    expect(ingressOf(s, await s.waitReady('meshed'))).toBe(true);
  });
});

describe('drift', () => {
  it('a node that never ran is made again from the aggregate’s new image, under the same name', async () => {
    const s = await start({ world: { defaultHost: { missingModules: ['no_such_module'] } }, kernelModules: ['no_such_module'] });
    await s.applyBay('old', { nodes: 1 });
    await s.waitReason('old', 'NodesReady', 'NodeStartFailed');
    const before = s.nodesOf(await s.bay('old'))[0]!;
    await s.applyAggregate({ kernelModules: [], image: 'marina-node/trixie' });
    const bay = await s.waitReady('old');
    const after = s.nodesOf(bay)[0]!;
    expect(after.name).toBe(before.name);
    expect(after.uid).not.toBe(before.uid);
    expect(after.config['volatile.base_image']).toBe(s.world.imageFingerprint(s.hostName('host-a'), 'marina-node/trixie'));
  });

  it('a running node whose aggregate changed keeps its instance and says how it differs', async () => {
    const s = await start();
    await s.applyBay('steady', { nodes: 1 });
    const ready = await s.waitReady('steady');
    const before = s.nodesOf(ready)[0]!;
    await s.applyAggregate({ kernelModules: ['overlay'] });
    const node = await s.waitFor('a drift problem', async () => {
      const n = (await s.bay('steady')).status?.nodes?.[0];
      return n?.problem?.includes('kernel-modules') ? n : undefined;
    });
    expect(node.state).toBe('Ready');
    expect(node.problem).toContain('a node that ran workloads is not changed');
    expect(s.nodesOf(ready)[0]!.uid).toBe(before.uid);
    expect(s.nodesOf(ready)[0]!.config['linux.kernel_modules'] ?? '').toBe('');
  });
});

describe('quiet idle', () => {
  it('a Ready bay makes no Kubernetes API request through several resyncs', async () => {
    const s = await start();
    await s.applyBay('idle', { nodes: 2 });
    await s.waitReady('idle');
    await sleep(1_500);
    const requests = (): Promise<number> => s.metric('rest_client_requests_total');
    const reconciles = (): Promise<number> => s.metric('controller_runtime_reconcile_total', { controller: 'bay' });
    const [r0, c0] = [await requests(), await reconciles()];
    await sleep(7_000);
    expect(await reconciles()).toBeGreaterThanOrEqual(c0 + 3); // resync every 2 s
    expect(await requests()).toBe(r0);
  });
});
