import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SimOperator } from '../../support/bays/sim-operator.js';
import { mintUser } from '../../support/kube-env.js';
import { mustKubectl } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';

const kubeconfigPath = inject('kubeconfigPath');
const kubeBinDir = inject('kubeBinDir');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let sim: SimOperator | undefined;
const start = async (): Promise<SimOperator> => (sim = await SimOperator.start(kubeconfigPath, kubeBinDir));

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const setMaxNodes = (s: SimOperator, value: string): Promise<string> =>
  mustKubectl(s.kubectl, ['annotate', '--overwrite', 'namespace', s.namespace, `marina.dev/max-nodes=${value}`]);

/** Every node of every bay of the test's namespace on the simulated hosts. */
const nodesInNamespace = (s: SimOperator): number =>
  s.world.instances().filter((i) => i.config['user.marina.bay.namespace'] === s.namespace).length;

describe("a namespace's node quota (marina.dev/max-nodes on the Namespace)", () => {
  it('holds back the nodes past it before they exist, names the quota, and builds them once it is raised', async () => {
    const s = await start();
    await setMaxNodes(s, '3');
    await s.applyBay('first', { nodes: 2 });
    await s.waitReady('first');
    await s.applyBay('second', { nodes: 2 });
    const held = await s.waitReason('second', 'NodesReady', 'QuotaExceeded');
    expect(held.status).toBe('False');
    expect(held.message).toContain(
      `namespace ${s.namespace} allows 3 nodes (annotation marina.dev/max-nodes) and its bays have 3: ` +
        '1 more node(s) wait for the quota',
    );
    await sleep(1_500);
    expect(nodesInNamespace(s)).toBe(3);
    const second = await s.bay('second');
    expect(second.status?.phase).toBe('Degraded');
    expect(second.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('QuotaExceeded');
    const events = await mustKubectl(s.kubectl, [
      'get',
      'events',
      '-n',
      s.namespace,
      '--field-selector',
      'reason=QuotaExceeded',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(events).toContain('allows 3 nodes');

    await setMaxNodes(s, '4');
    const ready = await s.waitReady('second');
    expect(ready.status?.readyNodes).toBe(2);
    expect(nodesInNamespace(s)).toBe(4);
  });

  it('a bay deleted gives its share to a bay the quota held back', async () => {
    const s = await start();
    await setMaxNodes(s, '2');
    await s.applyBay('old', { nodes: 2 });
    await s.waitReady('old');
    await s.applyBay('new', { nodes: 2 });
    await s.waitReason('new', 'NodesReady', 'QuotaExceeded');
    await mustKubectl(s.kubectl, ['delete', 'bay', 'old', '-n', s.namespace, '--timeout=60s']);
    const grown = await s.waitReady('new', 20_000);
    expect(grown.status?.readyNodes).toBe(2);
  });

  it('bays that grow at the same moment never hold more nodes together than the quota', async () => {
    const s = await start();
    await setMaxNodes(s, '4');
    await Promise.all(['a', 'b', 'c'].map((name) => s.applyBay(name, { nodes: 1 })));
    await Promise.all(['a', 'b', 'c'].map((name) => s.waitReady(name)));
    // One kubectl for the three: their reconciles plan within milliseconds of each other.
    await mustKubectl(s.kubectl, [
      'patch',
      'bay',
      'a',
      'b',
      'c',
      '-n',
      s.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"nodes":3}}',
    ]);
    let most = 0;
    const deadline = Date.now() + 6_000;
    while (Date.now() < deadline) {
      most = Math.max(most, nodesInNamespace(s));
      await sleep(50);
    }
    expect(most).toBe(4);
  });

  it('an annotation that is not a whole number lets no node be added, and says why', async () => {
    const s = await start();
    await setMaxNodes(s, 'lots');
    await s.applyBay('odd', { nodes: 1 });
    const held = await s.waitReason('odd', 'NodesReady', 'QuotaExceeded');
    expect(held.message).toContain('marina.dev/max-nodes="lots"');
    expect(held.message).toContain('is not a whole number of nodes');
    expect(nodesInNamespace(s)).toBe(0);
  });

  it('a tenant with the marina-tenant role cannot change it', async () => {
    const s = await start();
    await mustKubectl(s.kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'tenant-role.yaml')]);
    const user = `tenant-${s.namespace}`;
    await mustKubectl(s.kubectl, [
      'create',
      'rolebinding',
      'tenant-bays',
      '-n',
      s.namespace,
      '--clusterrole=marina-tenant',
      `--user=${user}`,
    ]);
    const kubeconfig = await mintUser(inject('kubeEnvDir'), user);
    const annotate = await s.kubectl(
      ['annotate', '--overwrite', 'namespace', s.namespace, 'marina.dev/max-nodes=100'],
      { kubeconfig },
    );
    expect(annotate.code).not.toBe(0);
    expect(annotate.stderr).toContain('forbidden');
  });
});

describe('ResourceQuota count/bays.marina.dev', () => {
  it('refuses a bay past the count at admission, so nothing is provisioned for it', async () => {
    const s = await start();
    await mustKubectl(s.kubectl, ['create', 'quota', 'bays', '-n', s.namespace, '--hard=count/bays.marina.dev=1']);
    // The quota controller must have counted before the apiserver admits anything the quota covers.
    // (It discovers the CRD's resource on its own schedule: about 20 s here, so more room than usual.)
    await s.waitFor(
      'the quota counted',
      async () => {
        const used = await s.kubectl(['get', 'quota', 'bays', '-n', s.namespace, '-o', 'jsonpath={.status.used}']);
        return used.stdout.includes('count/bays.marina.dev') ? true : undefined;
      },
      90_000,
    );
    await s.applyBay('one', { nodes: 1 });
    const refused = await s.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: two, namespace: ${s.namespace}}
spec:
  nodes: 1
  flavor: {cpu: 1, memory: 512Mi, disk: 2Gi}
  aggregateSelector: {matchLabels: {suite: ${s.suite}}}
`,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('exceeded quota: bays');
    expect(refused.stderr).toContain('count/bays.marina.dev=1');
    await s.waitReady('one');
    expect(nodesInNamespace(s)).toBe(1);
  }, 180_000);
});
