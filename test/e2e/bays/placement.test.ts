import { describe, expect, it } from 'vitest';
import type { HostAggregate } from '../../../src/api/types.generated.js';
import { bayYaml, getBay } from '../../support/bays/cluster.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { mustKubectl } from '../../support/kubectl.js';
import { instanceNames, makeClientIdentity, MARINA_KEYS, ofBay } from '../../support/lxd/index.js';
import { argoHealth } from '../../support/gitops/argocd.js';
import { hostKernelFeatures } from '../../support/kernel.js';
import { run, waitFor } from '../../support/processes.js';

const env = useBayTestEnvironment('e2e-placement');
const { kubectl, namespace: NS } = env;
/** The namespace `marina run` reads host credentials from by default. */
const OPERATOR_NS = 'marina-system';

/** The HostAggregate as kubectl prints it, read with the CRD's generated types. */
type AggregateView = HostAggregate;

async function aggregate(name: string): Promise<AggregateView> {
  return JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', name, '-o', 'json'])) as AggregateView;
}

async function readyCondition(bay: string): Promise<{ status: string; reason: string; message: string } | undefined> {
  return (await getBay(kubectl, NS, bay)).status?.conditions?.find((c) => c.type === 'Ready');
}

describe('host aggregates and placement', () => {
  it('an aggregate reports its host: trusted, the node image present, capacity, and the daemon', async () => {
    const status = (await aggregate(env.aggregate)).status!;
    expect(status.readyHosts).toBe(1);
    expect(status.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'AllHostsReady' });
    expect(status.hosts?.[0]).toMatchObject({ name: 'localhost', ready: true, imagePresent: true });
    expect(status.hosts?.[0]?.server).toMatch(/^(lxd|incus) /);
    expect(status.hosts?.[0]?.capacity?.cpu).toBeGreaterThan(0);
  });

  it("an aggregate reports what the host offers bays: the daemon's storage and kernel, and the kernel's modules as a node sees them", async () => {
    await env.applyBay('looker', { nodes: 1 });
    await env.waitReady('looker');
    const host = await waitFor('kernel modules in the aggregate status', async () => {
      const h = (await aggregate(env.aggregate)).status?.hosts?.[0];
      return h?.capabilities?.kernelModules ? h : undefined;
    }, 60_000, 500);
    const daemon = JSON.parse((await run('lxc', ['query', '/1.0'])).stdout) as { environment: { storage: string; kernel_version: string } };
    expect(host.capabilities).toMatchObject({ storageDriver: daemon.environment.storage, kernel: daemon.environment.kernel_version });
    // The same kernel, looked at from the host: loaded or built in.
    const has = hostKernelFeatures();
    const present = Object.entries(has).filter(([, yes]) => yes).map(([m]) => m);
    expect([...(host.capabilities?.kernelModules?.present ?? [])].sort()).toEqual(present.sort());
    expect(host.capabilities?.warnings?.some((w) => w.startsWith('no ip_vs'))).toBe(!has.ip_vs);
    await mustKubectl(kubectl, ['delete', 'bay', 'looker', '-n', NS, '--timeout=120s']);
  });

  it('an https host is not Ready while its credentials Secret is missing, nor while it does not trust marina', async () => {
    const name = 'e2e-remote';
    // Host credentials are read only from the operator's namespace: a key to a host is power over every node on it.
    const secret = { name: 'e2e-remote-lxd', namespace: OPERATOR_NS };
    const apply = (ref: { name: string; namespace: string }): Promise<string> =>
      mustKubectl(kubectl, ['apply', '-f', '-'], {
        input: `apiVersion: marina.dev/v1alpha1\nkind: HostAggregate\nmetadata: {name: ${name}}\nspec:\n  metadata: {suite: remote-only}\n  hosts:\n    - {name: remote, endpoint: "${env.host.httpsEndpoint}", credentialsSecretRef: {name: ${ref.name}, namespace: ${ref.namespace}}}\n`,
      });
    const hostReason = (reason: string) => waitFor(reason, async () => ((await aggregate(name)).status?.hosts?.[0]?.reason === reason ? aggregate(name) : undefined), 60_000, 500);
    try {
      await apply({ name: secret.name, namespace: NS });
      const refused = await hostReason('CredentialsNotAllowed');
      expect(refused.status?.hosts?.[0]?.message).toContain(`Secret ${NS}/${secret.name} is outside the namespaces marina reads host credentials from (${OPERATOR_NS})`);

      await apply(secret);
      const missing = await hostReason('CredentialsMissing');
      expect(missing.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
      expect(missing.status?.hosts?.[0]?.message).toContain(`Secret ${secret.namespace}/${secret.name}`);

      // A certificate the host has never been told to trust.
      const stranger = await makeClientIdentity('marina-e2e-stranger');
      await mustKubectl(kubectl, ['create', 'secret', 'generic', secret.name, '-n', secret.namespace, `--from-literal=tls.crt=${stranger.certificate}`, `--from-literal=tls.key=${stranger.key}`, `--from-literal=serverFingerprint=${env.host.serverFingerprint}`]);
      const untrusted = await hostReason('Untrusted');
      expect(untrusted.status?.hosts?.[0]?.message).toContain('does not trust marina');
      expect(JSON.stringify(untrusted.status)).not.toContain('PRIVATE KEY');
    } finally {
      await kubectl(['delete', 'hostaggregate', name, '--wait=false']);
      await kubectl(['delete', 'secret', secret.name, '-n', secret.namespace]);
    }
  });

  it('a bay whose flavor no host could ever hold says why for every host, creates nothing, and does not retry', async () => {
    await env.applyBay('huge', { nodes: 1, cpu: 64 });
    const ready = await waitFor('a FlavorTooLarge condition', async () => {
      const c = await readyCondition('huge');
      return c?.reason === 'FlavorTooLarge' ? c : undefined;
    }, 60_000, 500);
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('larger than any eligible host, even empty');
    expect(ready.message).toContain(`${env.aggregate}/localhost: InsufficientCpu (needs 64 CPUs`);
    const bay = await getBay(kubectl, NS, 'huge');
    expect(bay.status?.phase).toBe('Provisioning');
    // kstatus and Argo CD judge the same object: stalled on something only a person can change.
    expect(bay.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'FlavorTooLarge' });
    expect(await argoHealth('Bay', bay)).toMatchObject({ status: 'Degraded', message: expect.stringContaining('FlavorTooLarge') });
    expect(await instanceNames(env.lxc, ofBay(bay.metadata.uid))).toEqual([]);
    const events = await mustKubectl(kubectl, ['get', 'events', '-n', NS, '--field-selector', 'reason=FlavorTooLarge', '-o', 'name']);
    expect(events).not.toBe('');
    // A terminal failure waits for a change instead of spinning: no reconcile of the bay while nothing changes.
    expect(await env.operator.metric('controller_runtime_terminal_reconcile_errors_total', { controller: 'bay' })).toBeGreaterThan(0);
    const before = await env.operator.metric('marina_reconcile_errors_total', { controller: 'bay', kind: 'FlavorTooLarge' });
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(await env.operator.metric('marina_reconcile_errors_total', { controller: 'bay', kind: 'FlavorTooLarge' })).toBeLessThanOrEqual(before + 1);
    await mustKubectl(kubectl, ['delete', 'bay', 'huge', '-n', NS, '--timeout=120s']);
  });

  it('a cordoned host keeps its nodes but takes no new ones, until it is uncordoned', async () => {
    await env.applyBay('steady', { nodes: 1 });
    const before = await env.waitReady('steady');
    const cordon = (on: boolean): Promise<string> => mustKubectl(kubectl, ['patch', 'hostaggregate', env.aggregate, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/hosts/0/cordoned', value: on }])]);
    await cordon(true);
    try {
      await env.applyBay('steady', { nodes: 2 });
      const ready = await waitFor('HostCordoned', async () => {
        const c = await readyCondition('steady');
        return c?.message.includes('HostCordoned') ? c : undefined;
      }, 60_000, 500);
      expect(ready.reason).toBe('Unschedulable');
      const nodes = (await env.lxc.list()).filter(ofBay(before.metadata.uid));
      expect(nodes.map((n) => [n.name, n.status])).toEqual([[before.status!.nodes![0]!.name, 'Running']]);
    } finally {
      await cordon(false);
    }
    const after = await waitFor('two ready nodes', async () => {
      const b = await getBay(kubectl, NS, 'steady');
      return b.status?.readyNodes === 2 && b.status.phase === 'Ready' ? b : undefined;
    }, 300_000, 1_000);
    expect(after.status?.nodes?.map((n) => n.index)).toEqual([0, 1]);
  });

  it("a namespace's node quota holds back nodes before the host has them, says so, and lets them be built when raised", async () => {
    // `steady` (above) holds two nodes of the namespace: a cap of three leaves room for one more.
    expect((await getBay(kubectl, NS, 'steady')).status?.nodes).toHaveLength(2);
    const cap = (n: number): Promise<string> => mustKubectl(kubectl, ['annotate', '--overwrite', 'namespace', NS, `marina.dev/max-nodes=${n}`]);
    await cap(3);
    try {
      await env.applyBay('capped', { nodes: 2 });
      const held = await waitFor('QuotaExceeded', async () => {
        const c = await readyCondition('capped');
        return c?.reason === 'QuotaExceeded' ? c : undefined;
      }, 120_000, 500);
      expect(held.message).toContain(`namespace ${NS} allows 3 nodes (annotation marina.dev/max-nodes) and its bays have 3: 1 more node(s) wait for the quota`);
      const capped = await getBay(kubectl, NS, 'capped');
      expect(await instanceNames(env.lxc, ofBay(capped.metadata.uid))).toHaveLength(1);
      const events = await mustKubectl(kubectl, ['get', 'events', '-n', NS, '--field-selector', 'reason=QuotaExceeded', '-o', 'name']);
      expect(events).not.toBe('');
      await cap(4);
      const grown = await waitFor('capped Ready with two nodes', async () => {
        const b = await getBay(kubectl, NS, 'capped');
        return b.status?.phase === 'Ready' && b.status.readyNodes === 2 ? b : undefined;
      }, 300_000, 1_000);
      expect(await instanceNames(env.lxc, ofBay(grown.metadata.uid))).toHaveLength(2);
    } finally {
      await mustKubectl(kubectl, ['annotate', 'namespace', NS, 'marina.dev/max-nodes-']);
      await kubectl(['delete', 'bay', 'capped', '-n', NS, '--timeout=180s']);
    }
  });

  it("an aggregate places nothing for a namespace it does not allow, and that tenant is not told it exists", async () => {
    const outsider = `${NS}-out`;
    const allow = (selector: unknown): Promise<string> => mustKubectl(kubectl, ['patch', 'hostaggregate', env.aggregate, '--type=merge', '-p', JSON.stringify({ spec: { allowedNamespaces: selector } })]);
    await mustKubectl(kubectl, ['create', 'namespace', outsider]);
    await allow({ matchLabels: { tenant: 'true' } });
    try {
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bayYaml('stray', outsider, { nodes: 1 }) });
      const refused = await waitFor('Unschedulable', async () => {
        const c = (await getBay(kubectl, outsider, 'stray')).status?.conditions?.find((x) => x.type === 'Ready');
        return c?.reason === 'Unschedulable' ? c : undefined;
      }, 60_000, 500);
      expect(refused.message).toContain('no aggregate this bay may use offers a host');
      expect(refused.message).not.toContain(env.aggregate);
      const events = await mustKubectl(kubectl, ['get', 'events', '-n', outsider, '-o', 'jsonpath={.items[*].message}']);
      expect(events).not.toContain(env.aggregate);
      const stray = await getBay(kubectl, outsider, 'stray');
      expect(await instanceNames(env.lxc, ofBay(stray.metadata.uid))).toEqual([]);
      // The admin admits the namespace: the bay is placed at once.
      await mustKubectl(kubectl, ['label', 'namespace', outsider, 'tenant=true']);
      await mustKubectl(kubectl, ['wait', '-n', outsider, '--for=condition=Ready', '--timeout=300s', 'bay/stray']);
    } finally {
      await kubectl(['delete', 'bay', 'stray', '-n', outsider, '--timeout=180s']);
      await allow(null);
      await kubectl(['delete', 'namespace', outsider, '--wait=false']);
    }
  });

  it('a host that cannot be reached makes the bay Degraded and deletes nothing; a deletion waits for it until released', async () => {
    await env.applyBay('remote-ish', { nodes: 1 });
    const before = await env.waitReady('remote-ish');
    const node = before.status!.nodes![0]!.name;
    const endpoint = (to: string): Promise<string> => mustKubectl(kubectl, ['patch', 'hostaggregate', env.aggregate, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/hosts/0/endpoint', value: to }])]);
    await endpoint('unix:///nonexistent/lxd/unix.socket');
    try {
      const ready = await waitFor('HostUnreachable', async () => {
        const c = await readyCondition('remote-ish');
        return c?.reason === 'HostUnreachable' ? c : undefined;
      }, 60_000, 500);
      expect(ready.message).toContain(`${node} on localhost`);
      const bay = await getBay(kubectl, NS, 'remote-ish');
      expect(bay.status?.phase).toBe('Degraded');
      expect(bay.status?.nodes?.map((n) => [n.name, n.state])).toEqual([[node, 'Lost']]);
      expect((await env.lxc.instance(node))?.status).toBe('Running');

      await mustKubectl(kubectl, ['delete', 'bay', 'remote-ish', '-n', NS, '--wait=false']);
      const blocked = await waitFor('DeletionBlocked', async () => {
        const c = await readyCondition('remote-ish');
        return c?.reason === 'DeletionBlocked' ? c : undefined;
      }, 60_000, 500);
      expect(blocked.message).toContain(`${node} on unreachable host localhost`);
      await mustKubectl(kubectl, ['annotate', 'bay', 'remote-ish', '-n', NS, 'marina.dev/release-unreachable-nodes=true']);
      await mustKubectl(kubectl, ['wait', '--for=delete', 'bay/remote-ish', '-n', NS, '--timeout=60s']);
      // Released, not deleted: nothing was done to the node on the host marina could not reach, not
      // even marking it unmanaged.
      const instance = await env.lxc.instance(node);
      expect(instance?.status).toBe('Running');
      expect(instance?.config[MARINA_KEYS.bayUid]).toBe(before.metadata.uid);
      expect(instance?.config[MARINA_KEYS.managed]).toBeUndefined();
    } finally {
      await endpoint(env.host.socketEndpoint);
      await env.lxc.deleteForce(node);
    }
  });
});
