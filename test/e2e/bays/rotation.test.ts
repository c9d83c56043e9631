import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBay, type BayView } from '../../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials, mixedBundle, type DockerCli } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { deployProbedService, ServiceProber, type ProbeReport } from '../../support/bays/prober.js';
import { mustKubectl, OPERATOR_NAMESPACE } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';
import { waitFor } from '../../support/processes.js';
import { servedSerial } from '../../support/swarm/openssl.js';
import { DOCKER_CLI_REFUSAL } from '../../support/tls-refusal.js';

const env = useBayTestEnvironment('e2e-rot');
const { kubectl, kubeconfig } = env;
const NS = env.namespace;
const PORT = 18080;
const ROTATION_TIMEOUT_MS = 420_000;

/** Shared by the tests below, which run in order on one bay. */
const state: { addresses: string[]; prober?: ServiceProber; firstBundle?: string; preCaBundle?: string; reports: Record<string, ProbeReport> } = {
  addresses: [],
  reports: {},
};

async function annotate(bay: string, key: string, value: string): Promise<void> {
  await mustKubectl(kubectl, ['annotate', '--overwrite', 'bay', bay, '-n', NS, `${key}=${value}`]);
}

/** Waits until the bay acknowledges `value` of a rotation request and is Ready again. */
async function waitHandled(bay: string, request: string, value: string): Promise<BayView> {
  return waitFor(`${bay} handled ${request}=${value}`, async () => {
    const view = await getBay(kubectl, NS, bay);
    return view.status?.certificates?.handledRequests?.[request] === value && view.status.phase === 'Ready' ? view : undefined;
  }, ROTATION_TIMEOUT_MS, 1_000);
}

function servedSerials(bundle: string): Record<string, string | undefined> {
  return Object.fromEntries(state.addresses.map((a) => [a, servedSerial(a, 2376, bundle)]));
}

async function readySwarmMembers(docker: DockerCli): Promise<string[]> {
  const listed = await docker(['node', 'ls', '--format', '{{.Status}}/{{.Availability}}']);
  if (listed.code !== 0) throw new Error(`docker node ls failed: ${listed.stderr}`);
  return listed.stdout.trim().split('\n');
}

async function works(bundle: string): Promise<{ code: number; stderr: string }> {
  return dockerWithBundle(bundle)(['version', '--format', '{{.Server.Version}}']);
}

describe('certificate rotation on a serving bay (real LXD, dockerd and swarm)', () => {
  it('a 3-node bay serves a 2-replica service on a host-mode port, probed from the host', async () => {
    // A second bay whose leaves are due a minute after they are issued: it must renew on its own.
    await env.applyBay('due', { nodes: 2, tls: { certificateValidity: '1h', renewBefore: '59m' } });
    await env.applyBay('rot', { nodes: 3, tls: { caOverlap: '1m' } });
    const bay = await env.waitReady('rot');
    state.addresses = bay.status!.nodes!.map((n) => n.address!);
    state.firstBundle = await fetchCredentials(kubeconfig, 'rot', NS);
    await deployProbedService(dockerWithBundle(state.firstBundle), { name: 'web', port: PORT, replicas: 2, nodeAddresses: state.addresses });
    state.prober = new ServiceProber({ backends: state.addresses, port: PORT, ratePerSecond: 20 });
    state.prober.start();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(state.prober.report().failed).toBe(0);
  });

  it('a leaf rotation: every node serves a new certificate, the swarm keeps 3 ready members, no probe fails', async () => {
    const before = servedSerials(state.firstBundle!);
    expect(Object.values(before).every(Boolean)).toBe(true);
    const mark = state.prober!.mark();
    await annotate('rot', 'marina.dev/rotate-certificates', 'leaves-1');
    const bay = await waitHandled('rot', 'rotateCertificates', 'leaves-1');
    const report = (state.reports.leaves = state.prober!.since(mark));
    console.log(`leaf rotation: ${JSON.stringify(report)}`);
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(report.perSecond).toBeGreaterThanOrEqual(10);
    const after = servedSerials(state.firstBundle!);
    for (const address of state.addresses) expect(after[address], address).not.toBe(before[address]);
    expect(bay.status!.nodes!.map((n) => n.certificateSerial).sort()).toEqual(Object.values(after).sort());
    expect(await readySwarmMembers(dockerWithBundle(state.firstBundle!))).toEqual(['Ready/Active', 'Ready/Active', 'Ready/Active']);
    // The tenant's bundle of the same CA keeps working: a leaf rotation cuts nobody off.
    expect((await works(state.firstBundle!)).code).toBe(0);
  });

  it('a CA rotation: old credentials work during the overlap and are refused after it; the new bundle works throughout', async () => {
    const before = servedSerials(state.firstBundle!);
    const mark = state.prober!.mark();
    await annotate('rot', 'marina.dev/rotate-ca', 'ca-1');
    const overlap = await waitFor('the overlap', async () => {
      const view = await getBay(kubectl, NS, 'rot');
      return view.status?.certificates?.rotation?.step === 'Overlap' ? view : undefined;
    }, ROTATION_TIMEOUT_MS, 500);
    expect(overlap.status?.phase).toBe('Rotating');
    // Every node now serves a certificate of the new CA; the old bundle still works, and so does the new one.
    const newBundle = await fetchCredentials(kubeconfig, 'rot', NS);
    expect((await works(state.firstBundle!)).code).toBe(0);
    expect((await works(newBundle)).code).toBe(0);

    await waitHandled('rot', 'rotateCa', 'ca-1');
    const report = (state.reports.ca = state.prober!.since(mark));
    console.log(`CA rotation: ${JSON.stringify(report)}`);
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect((await works(newBundle)).code).toBe(0);
    expect(await fetchCredentials(kubeconfig, 'rot', NS).then((dir) => works(dir))).toMatchObject({ code: 0 });
    // The old bundle trusts only the old CA: the nodes' certificates no longer chain to it.
    const old = await works(state.firstBundle!);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(DOCKER_CLI_REFUSAL.serverCertificateOfAnotherCa);
    const after = servedSerials(newBundle);
    for (const address of state.addresses) expect(after[address], address).not.toBe(before[address]);
    expect(await readySwarmMembers(dockerWithBundle(newBundle))).toEqual(['Ready/Active', 'Ready/Active', 'Ready/Active']);
    state.preCaBundle = state.firstBundle;
    state.firstBundle = newBundle;
  });

  it('an old client certificate is refused after the overlap, even by a client that trusts the new CA', async () => {
    // ca.pem of the new bundle; cert.pem and key.pem of the bundle issued before the CA rotation.
    const mixed = await mixedBundle(state.firstBundle!, { 'ca.pem': state.firstBundle!, 'cert.pem': state.preCaBundle!, 'key.pem': state.preCaBundle! });
    const refused = await works(mixed);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(DOCKER_CLI_REFUSAL.clientCertificateOfAnotherCa);
  });

  it("a swarm CA rotation: every member trusts the swarm's new root, no probe fails", async () => {
    const docker = dockerWithBundle(state.firstBundle!);
    const rootBefore = await mustSucceed(docker(['swarm', 'ca']));
    const mark = state.prober!.mark();
    await annotate('rot', 'marina.dev/rotate-swarm-ca', 'swarm-1');
    const bay = await waitHandled('rot', 'rotateSwarmCa', 'swarm-1');
    const report = (state.reports.swarmCa = state.prober!.since(mark));
    console.log(`swarm CA rotation: ${JSON.stringify(report)}`);
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(await mustSucceed(docker(['swarm', 'ca']))).not.toBe(rootBefore);
    expect(bay.status?.certificates?.lastSwarmCaRotationTime).toBeDefined();
    expect(await readySwarmMembers(docker)).toEqual(['Ready/Active', 'Ready/Active', 'Ready/Active']);
    await state.prober!.stop();
  });

  it('certificates that fall due renew on their own, without an annotation', async () => {
    // Its leaves fall due a minute after each renewal, so a renewal may be rolling when we look: the
    // nodes must serve what status says once one has finished and before the next begins.
    const bundle = await fetchCredentials(kubeconfig, 'due', NS);
    let served: (string | undefined)[] = [];
    const due = await waitFor('the due bay renewed, its nodes serving the serials status names', async () => {
      const view = await getBay(kubectl, NS, 'due');
      const certificates = view.status?.certificates;
      const settled = certificates?.lastLeafRotationTime && !certificates.rotation && view.status?.phase === 'Ready';
      if (!settled) return undefined;
      served = view.status!.nodes!.map((n) => servedSerial(n.address!, 2376, bundle));
      return served.every((serial, i) => serial === view.status!.nodes![i]!.certificateSerial) ? view : undefined;
    }, ROTATION_TIMEOUT_MS, 2_000);
    expect(due.status?.certificates?.handledRequests?.['rotateCertificates']).toBeUndefined();
    expect(served.every(Boolean)).toBe(true);
  });

  it('a tenant who may read every Secret of its namespace cannot read any CA key', async () => {
    await mustKubectl(kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'tenant-role.yaml')]);
    await mustKubectl(kubectl, ['create', 'serviceaccount', 'tenant', '-n', NS]);
    await mustKubectl(kubectl, ['create', 'rolebinding', 'tenant-bays', '-n', NS, '--clusterrole', 'marina-tenant', `--serviceaccount=${NS}:tenant`]);
    const as = ['--as', `system:serviceaccount:${NS}:tenant`];
    const uid = (await getBay(kubectl, NS, 'rot')).metadata.uid;
    expect((await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', NS, ...as])).stdout.trim()).toBe('yes');
    const caKey = await kubectl(['get', 'secret', `bay-${uid}-ca`, '-n', OPERATOR_NAMESPACE, ...as]);
    expect(caKey.code).not.toBe(0);
    expect(caKey.stderr).toContain('forbidden');
    // What the tenant can read holds no CA: only the credentials bundles, each a client certificate.
    const readable = JSON.parse(await mustKubectl(kubectl, ['get', 'secrets', '-n', NS, '-o', 'json', ...as])) as { items: { metadata: { name: string }; data?: Record<string, string> }[] };
    const marina = readable.items.filter((s) => s.metadata.name.startsWith('rot-') || s.metadata.name.startsWith('due-'));
    expect(marina.map((s) => s.metadata.name).sort()).toEqual(['due-credentials', 'rot-credentials']);
    for (const secret of marina) expect(Object.keys(secret.data ?? {})).not.toContain('tls.key');
  });

  it('a foreign Secret under the name of a bay\'s credentials is left untouched, and the bay says so', async () => {
    const note = Buffer.from('not marina\'s').toString('base64');
    await mustKubectl(kubectl, ['apply', '-f', '-'], {
      input: `apiVersion: v1\nkind: Secret\nmetadata: {name: taken-credentials, namespace: ${NS}}\ndata: {note: ${note}}\n`,
    });
    await env.applyBay('taken', { nodes: 1 });
    const ready = await waitFor('SecretConflict', async () => {
      const view = await getBay(kubectl, NS, 'taken');
      const c = view.status?.conditions?.find((x) => x.type === 'Ready');
      return c?.reason === 'SecretConflict' ? c : undefined;
    }, 240_000, 1_000);
    expect(ready.message).toContain(`Secret ${NS}/taken-credentials exists but does not belong to this bay`);
    expect(await mustKubectl(kubectl, ['get', 'secret', 'taken-credentials', '-n', NS, '-o', 'jsonpath={.data}'])).toBe(JSON.stringify({ note }));
  });
});

async function mustSucceed(result: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await result;
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout;
}
