import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Bay } from '../../../src/api/types.generated.js';
import { SimOperator } from '../../support/bays/sim-operator.js';
import { mustKubectl, OPERATOR_NAMESPACE } from '../../support/kubectl.js';

const kubeconfigPath = inject('kubeconfigPath');
const kubeBinDir = inject('kubeBinDir');

let sim: SimOperator | undefined;
const start = async (): Promise<SimOperator> => (sim = await SimOperator.start(kubeconfigPath, kubeBinDir));

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const serials = (bay: Bay): Record<string, string> => Object.fromEntries((bay.status?.nodes ?? []).map((n) => [n.name, n.certificateSerial ?? '']));

/** Node names from the bay's NodeRestarted Events, oldest first. */
async function restartOrder(s: SimOperator, bay: string): Promise<string[]> {
  const out = await mustKubectl(s.kubectl, ['get', 'events', '-n', s.namespace, '--field-selector', `reason=NodeRestarted,involvedObject.name=${bay}`, '-o', 'json']);
  const items = (JSON.parse(out) as { items: { eventTime?: string; firstTimestamp?: string; message?: string; note?: string }[] }).items;
  return items
    .sort((a, b) => Date.parse(a.eventTime ?? a.firstTimestamp ?? '') - Date.parse(b.eventTime ?? b.firstTimestamp ?? ''))
    .map((e) => /node (\S+) restarted/.exec(e.message ?? e.note ?? '')?.[1] ?? '?');
}

describe('certificate rotation (simulated hosts, real apiserver)', () => {
  it('a requested leaf rotation restarts every node once with a new certificate, workers before the manager, and is acknowledged', async () => {
    const s = await start();
    await s.applyBay('leaves', { nodes: 3 });
    const before = await s.waitReady('leaves');
    await mustKubectl(s.kubectl, ['annotate', 'bay', 'leaves', '-n', s.namespace, 'marina.dev/rotate-certificates=r1']);
    const after = await s.waitFor('rotation r1 handled', async () => {
      const bay = await s.bay('leaves');
      return bay.status?.certificates?.handledRequests?.rotateCertificates === 'r1' && bay.status.phase === 'Ready' ? bay : undefined;
    });
    for (const [node, serial] of Object.entries(serials(before))) expect(serials(after)[node], node).not.toBe(serial);
    expect(after.status?.certificates?.lastLeafRotationTime).toBeDefined();
    expect(after.status?.certificates?.rotation).toBeUndefined();
    const manager = before.status!.nodes!.find((n) => n.role === 'manager')!.name;
    const order = await restartOrder(s, 'leaves');
    expect(order).toHaveLength(3);
    expect(order.at(-1)).toBe(manager);
    expect(after.status?.readyNodes).toBe(3);
  });

  it('a CA rotation trusts both CAs, re-issues every leaf, overlaps, then drops the old CA', async () => {
    const s = await start();
    await s.applyBay('ca', { nodes: 2, tls: { certificateValidity: '2160h', renewBefore: '720h', caOverlap: '1m' } });
    const before = await s.waitReady('ca');
    const caSecret = `bay-${before.metadata.uid}-ca`;
    const caPem = async (): Promise<string> => mustKubectl(s.kubectl, ['get', 'secret', caSecret, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.data.tls\\.crt}']);
    const keys = async (): Promise<string> => mustKubectl(s.kubectl, ['get', 'secret', caSecret, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.data}']);
    const oldCa = await caPem();
    await mustKubectl(s.kubectl, ['annotate', 'bay', 'ca', '-n', s.namespace, 'marina.dev/rotate-ca=c1']);
    const overlap = await s.waitFor('the overlap', async () => {
      const bay = await s.bay('ca');
      return bay.status?.certificates?.rotation?.step === 'Overlap' ? bay : undefined;
    });
    expect(overlap.status?.phase).toBe('Rotating');
    expect(overlap.status?.conditions?.find((c) => c.type === 'CertificatesReady')?.reason).toBe('Rotating');
    expect(await caPem()).not.toBe(oldCa);
    expect(await keys()).toContain('previous.crt');
    for (const [node, serial] of Object.entries(serials(before))) expect(serials(overlap)[node], node).not.toBe(serial);
    const done = await s.waitFor('rotation c1 handled', async () => {
      const bay = await s.bay('ca');
      return bay.status?.certificates?.handledRequests?.rotateCa === 'c1' && bay.status.phase === 'Ready' ? bay : undefined;
    }, 150_000);
    expect(await keys()).not.toContain('previous.crt');
    expect(done.status?.certificates?.lastCaRotationTime).toBeDefined();
    // Rolling and Dropping each restart every node once.
    expect(await restartOrder(s, 'ca')).toHaveLength(4);
  }, 180_000);

  it('certificates that fall due renew on their own, without a resync or an annotation', async () => {
    const s = await start();
    // Every leaf is due five seconds after it is issued.
    await s.applyBay('due', { nodes: 2, tls: { certificateValidity: '1h', renewBefore: '59m55s' } });
    const before = await s.waitReady('due');
    const renewed = await s.waitFor('renewed leaves', async () => {
      const bay = await s.bay('due');
      const now = serials(bay);
      const all = Object.entries(serials(before)).every(([node, serial]) => now[node] && now[node] !== serial);
      return all && bay.status?.certificates?.lastLeafRotationTime ? bay : undefined;
    });
    expect(renewed.status?.certificates?.handledRequests?.rotateCertificates).toBeUndefined();
    expect(Date.parse(renewed.status!.certificates!.operatorNotAfter!)).toBeGreaterThan(Date.parse(before.status!.certificates!.operatorNotAfter!));
  });
});

describe('a rollout that cannot go on (simulated hosts, real apiserver)', () => {
  it('a node that fails its restart stops the rollout with a condition; nothing else restarts until asked again', async () => {
    const s = await start();
    await s.applyBay('stuck', { nodes: 3 });
    const before = await s.waitReady('stuck');
    const firstWorker = before.status!.nodes!.find((n) => n.index === 1)!;
    const fault = s.world.injectFault({ kind: 'operation-failed', operation: 'push-file', node: firstWorker.name, times: Infinity, message: 'disk full' });
    await mustKubectl(s.kubectl, ['annotate', 'bay', 'stuck', '-n', s.namespace, 'marina.dev/rotate-certificates=r1']);
    const failed = await s.waitReason('stuck', 'CertificatesReady', 'RolloutFailed');
    expect(failed.message).toContain(`rollout stopped at node ${firstWorker.name} (restart)`);
    // Drained, left drained, and the rest untouched: no restart in a loop.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const stopped = await s.bay('stuck');
    expect(stopped.status?.nodes?.find((n) => n.name === firstWorker.name)?.state).toBe('Draining');
    // Later reconciles keep saying where and why it stopped.
    const still = stopped.status?.conditions?.find((c) => c.type === 'CertificatesReady');
    expect(still).toMatchObject({ status: 'False', reason: 'RolloutFailed', message: expect.stringContaining(`rollout stopped at node ${firstWorker.name} (restart)`) });
    expect(await restartOrder(s, 'stuck')).toEqual([]);
    expect(serials(stopped)).toEqual(serials(before));
    expect(stopped.status?.certificates?.handledRequests?.rotateCertificates).toBeUndefined();

    fault.clear();
    await mustKubectl(s.kubectl, ['annotate', '--overwrite', 'bay', 'stuck', '-n', s.namespace, 'marina.dev/rotate-certificates=r2']);
    const done = await s.waitFor('rotation r2 handled', async () => {
      const bay = await s.bay('stuck');
      return bay.status?.certificates?.handledRequests?.rotateCertificates === 'r2' && bay.status.phase === 'Ready' ? bay : undefined;
    });
    expect((await restartOrder(s, 'stuck'))[0]).toBe(firstWorker.name);
    for (const [node, serial] of Object.entries(serials(before))) expect(serials(done)[node], node).not.toBe(serial);
  });

  it('a node whose dockerd died is repaired by a drained restart, the others left alone', async () => {
    const s = await start();
    await s.applyBay('dead', { nodes: 3 });
    const before = await s.waitReady('dead');
    const victim = before.status!.nodes!.find((n) => n.index === 2)!;
    s.world.killDockerd(s.hostName(victim.host!), victim.name);
    await s.waitFor('the repair', async () => ((await restartOrder(s, 'dead')).length > 0 ? true : undefined));
    await s.waitReady('dead');
    expect(await restartOrder(s, 'dead')).toEqual([victim.name]);
  });

  it("a bay whose CA an earlier release kept in the tenant's namespace keeps that CA, moved to the operator's", async () => {
    const s = await start();
    await s.applyBay('old', { nodes: 1 });
    const bay = await s.waitReady('old');
    await s.stopOperator();
    // The layout of earlier releases: the CA in the bay's namespace, owned by the bay.
    const ca = JSON.parse(await mustKubectl(s.kubectl, ['get', 'secret', `bay-${bay.metadata.uid}-ca`, '-n', OPERATOR_NAMESPACE, '-o', 'json'])) as { data: Record<string, string> };
    const owner = { apiVersion: 'marina.dev/v1alpha1', kind: 'Bay', name: 'old', uid: bay.metadata.uid, controller: true };
    const legacy = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', data: ca.data, metadata: { name: 'old-ca', namespace: s.namespace, labels: { 'app.kubernetes.io/managed-by': 'marina', 'marina.dev/bay': 'old' }, ownerReferences: [owner] } };
    await mustKubectl(s.kubectl, ['apply', '-f', '-'], { input: JSON.stringify(legacy) });
    await mustKubectl(s.kubectl, ['delete', 'secret', `bay-${bay.metadata.uid}-ca`, '-n', OPERATOR_NAMESPACE]);

    await s.startOperator();
    const moved = await s.waitFor('the CA moved', async () => {
      const r = await s.kubectl(['get', 'secret', `bay-${bay.metadata.uid}-ca`, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.data.tls\\.crt}']);
      return r.code === 0 && r.stdout ? r.stdout : undefined;
    });
    expect(moved).toBe(ca.data['tls.crt']);
    await s.waitFor('the legacy Secret gone', async () => ((await s.kubectl(['get', 'secret', 'old-ca', '-n', s.namespace])).code !== 0 ? true : undefined));
    await s.waitReady('old');
  });
});
