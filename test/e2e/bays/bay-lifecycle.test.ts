import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBay, waitForPhase, type BaySpecInput, type BayView } from '../../support/bays/cluster.js';
import { dockerAfterEval, dockerWithBundle, fetchCredentials, marinaEnv, mixedBundle, swarmNodes, type DockerCli } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../../support/bays/workload-image.js';
import { mustKubectl, OPERATOR_NAMESPACE } from '../../support/kubectl.js';
import { instanceNames, MARINA_KEYS, nodeIndex, ofBay } from '../../support/lxd/index.js';
import { argoHealth } from '../../support/gitops/argocd.js';
import { waitFor } from '../../support/processes.js';
import { httpsGet, type TlsIdentity } from '../../support/swarm/tls-peers.js';
import { DOCKER_CLI_REFUSAL, NODE_TLS_REFUSAL } from '../../support/tls-refusal.js';

const env = useBayTestEnvironment('e2e-bays');
const { kubectl, kubeconfig } = env;
const NS = env.namespace;
const applyBay = (name: string, spec: BaySpecInput): Promise<void> => env.applyBay(name, spec);
const waitReady = (name: string): Promise<BayView> => env.waitReady(name);

/** The client certificate and key of a credentials bundle. */
async function bundleIdentity(dir: string): Promise<TlsIdentity> {
  const read = (file: string): Promise<string> => readFile(join(dir, file), 'utf8');
  return { certPem: await read('cert.pem'), keyPem: await read('key.pem') };
}

/** GET /version from a node's dockerd with Node's tls: the answer, or the code of the error that ended it. */
function dockerdVersion(address: string, trust: string, identity?: TlsIdentity) {
  return httpsGet({ host: address, port: 2376, path: '/version', trust, ...(identity ? { identity } : {}) });
}

describe('a bay on a real LXD host, driven through kubectl and the docker CLI', () => {
  describe('a 3-node bay', () => {
    let docker: DockerCli;
    let bay: BayView;

    it('becomes Ready after kubectl apply, and the docker CLI lists 3 Ready swarm nodes', async () => {
      await applyBay('web', { nodes: 3 });
      bay = await waitReady('web');
      expect(bay.status?.phase).toBe('Ready');
      // Argo CD's health checks, run by a real Lua interpreter on the objects as they are.
      expect(await argoHealth('Bay', bay)).toMatchObject({ status: 'Healthy' });
      const aggregate: unknown = JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', env.aggregate, '-o', 'json']));
      expect(await argoHealth('HostAggregate', aggregate)).toMatchObject({ status: 'Healthy' });
      expect(bay.status?.readyNodes).toBe(3);
      expect(bay.status?.endpoint).toMatch(/^tcp:\/\/[\d.]+:2376$/);
      docker = dockerWithBundle(await fetchCredentials(kubeconfig, 'web', NS));
      const nodes = await swarmNodes(docker);
      expect(nodes.map((n) => n.status)).toEqual(['Ready', 'Ready', 'Ready']);
      expect(nodes.map((n) => n.hostname).sort()).toEqual(bay.status!.nodes!.map((n) => n.name).sort());
    });

    it('eval "$(marina env web)" points the docker CLI at the bay', async () => {
      const lines = await marinaEnv(kubeconfig, 'web', NS);
      expect(lines).toMatch(/^export DOCKER_HOST='tcp:\/\/[\d.]+:2376'$/m);
      expect(lines).toContain('export DOCKER_TLS_VERIFY=1');
      expect((await swarmNodes(dockerAfterEval(lines))).map((n) => n.status)).toEqual(['Ready', 'Ready', 'Ready']);
    });

    it('runs a 3-replica service on an overlay network, one task per node, whose tasks reach each other', async () => {
      for (const node of bay.status!.nodes!) await loadWorkloadImage(docker, node.address!);
      expect((await docker(['network', 'create', '--driver', 'overlay', '--attachable', 'appnet'])).code).toBe(0);
      const created = await docker([
        // --no-resolve-image: the image was loaded into each node; there is no registry to ask.
        'service', 'create', '--detach', '--no-resolve-image', '--name', 'whoami', '--network', 'appnet', '--replicas', '3', '--replicas-max-per-node', '1',
        WORKLOAD_IMAGE, 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www',
      ]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const tasks = await waitFor('3 running whoami tasks', async () => {
        const ps = await docker(['service', 'ps', 'whoami', '--filter', 'desired-state=running', '--format', '{{.ID}} {{.Node}} {{.CurrentState}}']);
        const running = ps.stdout.trim().split('\n').filter((l) => l.includes(' Running '));
        return running.length === 3 ? running.map((l) => ({ id: l.split(' ')[0]!, node: l.split(' ')[1]! })) : undefined;
      }, 120_000, 1_000);
      expect(new Set(tasks.map((t) => t.node)).size).toBe(3);

      const addresses = await Promise.all(
        tasks.map(async (t) => {
          const inspected = await docker(['inspect', '--format', '{{range .NetworksAttachments}}{{if eq .Network.Spec.Name "appnet"}}{{index .Addresses 0}}{{end}}{{end}}', t.id]);
          return inspected.stdout.trim().split('/')[0]!;
        }),
      );
      // A container on the manager fetches every task's page over the overlay, across the nodes.
      // (No wget -T: busybox 1.35's wget crashes with it.)
      const fetched = await docker(['run', '--rm', '--network', 'appnet', WORKLOAD_IMAGE, 'sh', '-c', addresses.map((a) => `wget -qO- http://${a}:8080/`).join(' && ')]);
      expect(fetched.stderr).toBe('');
      expect(new Set(fetched.stdout.trim().split('\n')).size).toBe(3);
    });

    it('has a routing mesh only with IPVS in the kernel: else ingress-mode ports are refused, saying why', async () => {
      const ipvs = existsSync('/proc/net/ip_vs') || existsSync('/sys/module/ip_vs');
      const networks = await docker(['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}}']);
      expect(networks.stdout.trim().split('\n').includes('ingress')).toBe(ipvs);
      const published = await docker([
        'service', 'create', '--detach', '--no-resolve-image', '--name', 'meshed', '--publish', '18090:8080',
        WORKLOAD_IMAGE, 'sleep', '600',
      ]);
      if (ipvs) {
        expect(published.code).toBe(0);
        await docker(['service', 'rm', 'meshed']);
      } else {
        expect(published.code).not.toBe(0);
        expect(published.stderr).toContain('service needs ingress network, but no ingress network is present');
      }
    });

    it('refuses in the TLS handshake a client without a certificate, and one with another bay’s', async () => {
      await applyBay('other', { nodes: 1 });
      await waitReady('other');
      const otherDir = await fetchCredentials(kubeconfig, 'other', NS);
      const webDir = await fetchCredentials(kubeconfig, 'web', NS);
      const address = bay.status!.nodes![0]!.address!;
      const ca = await readFile(join(webDir, 'ca.pem'), 'utf8');

      expect(await dockerdVersion(address, ca, await bundleIdentity(webDir))).toMatchObject({ ok: true });
      expect(await dockerdVersion(address, ca)).toEqual({
        ok: false,
        error: expect.stringMatching(NODE_TLS_REFUSAL.noClientCertificate),
      });
      expect(await dockerdVersion(address, ca, await bundleIdentity(otherDir))).toEqual({
        ok: false,
        error: expect.stringMatching(NODE_TLS_REFUSAL.clientCertificateOfAnotherCa),
      });

      // The same through the docker CLI and a docker.env: web's CA to verify the server, and no client
      // certificate, then the other bay's.
      const withoutCertificate = await dockerWithBundle(await mixedBundle(webDir, { 'ca.pem': webDir }))(['version']);
      expect(withoutCertificate.code).not.toBe(0);
      expect(withoutCertificate.stderr).toMatch(DOCKER_CLI_REFUSAL.noClientCertificate);
      const otherCertificate = await mixedBundle(webDir, {
        'ca.pem': webDir,
        'cert.pem': otherDir,
        'key.pem': otherDir,
      });
      const refused = await dockerWithBundle(otherCertificate)(['version']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(DOCKER_CLI_REFUSAL.clientCertificateOfAnotherCa);
    });

    it('grows to 5 nodes when spec.nodes is raised, and kubectl cannot lower it', async () => {
      await applyBay('web', { nodes: 5 });
      await waitFor('the bay to take the new generation', async () => ((await getBay(kubectl, NS, 'web')).status?.readyNodes === 5 ? true : undefined), 300_000, 1_000);
      bay = await waitReady('web');
      expect((await swarmNodes(docker)).map((n) => n.status)).toEqual(['Ready', 'Ready', 'Ready', 'Ready', 'Ready']);

      const lowered = await kubectl(['patch', 'bay', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"nodes":3}}']);
      expect(lowered.code).not.toBe(0);
      expect(lowered.stderr).toContain('nodes cannot be lowered');
      expect((await getBay(kubectl, NS, 'web')).spec.nodes).toBe(5);
    });

    it('replaces a node whose instance is deleted behind its back: Degraded, then Ready, with no dead swarm member', async () => {
      const victim = bay.status!.nodes!.find((n) => n.role === 'worker')!;
      expect(await env.lxc.deleteForce(victim.name)).toBe(true);
      await waitForPhase(kubectl, NS, 'web', 'Degraded', 120_000);
      bay = await waitFor('web Ready again with a replacement', async () => {
        const b = await getBay(kubectl, NS, 'web');
        return b.status?.phase === 'Ready' && !b.status.nodes?.some((n) => n.name === victim.name) ? b : undefined;
      }, 300_000, 1_000);
      const nodes = await swarmNodes(docker);
      expect(nodes).toHaveLength(5);
      expect(nodes.every((n) => n.status === 'Ready')).toBe(true);
      expect(nodes.map((n) => n.hostname)).not.toContain(victim.name);
      const onHost = await instanceNames(env.lxc, ofBay(bay.metadata.uid));
      expect(onHost).toEqual(bay.status!.nodes!.map((n) => n.name).sort());
      expect(onHost).not.toContain(victim.name);
    });
  });

  it('survives SIGKILL of the operator in the middle of provisioning: no twin, no duplicate member, the same CA', async () => {
    await applyBay('crash', { nodes: 3 });
    const uid = await waitFor('the crash bay uid', async () => (await getBay(kubectl, NS, 'crash')).metadata.uid || undefined, 30_000);
    const firstInstance = async (): Promise<true | undefined> =>
      (await instanceNames(env.lxc, ofBay(uid))).length > 0 ? true : undefined;
    await waitFor('the first instance of the crash bay', firstInstance, 120_000, 100);
    await env.operator.kill();
    const caOf = (): Promise<string> => mustKubectl(kubectl, ['get', 'secret', `bay-${uid}-ca`, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.data.tls\\.crt}']);
    const caBefore = await caOf();
    expect(caBefore).not.toBe('');
    expect((await getBay(kubectl, NS, 'crash')).status?.phase).not.toBe('Ready');

    env.operator.start();
    const bay = await waitReady('crash');
    const instances = (await env.lxc.list()).filter(ofBay(uid));
    expect(instances.map(nodeIndex).sort()).toEqual([0, 1, 2]);
    expect(await caOf()).toBe(caBefore);
    const nodes = await swarmNodes(dockerWithBundle(await fetchCredentials(kubeconfig, 'crash', NS)));
    expect(nodes.map((n) => n.hostname).sort()).toEqual(instances.map((n) => n.name).sort());
    expect(bay.status?.readyNodes).toBe(3);
  });

  it('deleting a bay removes every instance and Secret under Delete, and none under Retain', async () => {
    const crashBay = await getBay(kubectl, NS, 'crash');
    const crash = crashBay.status!.nodes!.map((n) => n.name);
    const internalSecrets = (uid: string): Promise<string> =>
      mustKubectl(kubectl, ['get', 'secrets', '-n', OPERATOR_NAMESPACE, '-l', `marina.dev/bay-uid=${uid}`, '-o', 'name']);
    // The CA, marina's client and one key per node, out of the tenant's namespace.
    expect((await internalSecrets(crashBay.metadata.uid!)).trim().split('\n').sort()).toEqual(
      ['ca', 'node-0', 'node-1', 'node-2', 'operator'].map((s) => `secret/bay-${crashBay.metadata.uid}-${s}`),
    );
    expect(crash).toHaveLength(3);
    for (const name of crash) expect(await env.lxc.instance(name), `${name} before the deletion`).toBeDefined();
    await mustKubectl(kubectl, ['delete', 'bay', 'crash', '-n', NS, '--timeout=180s']);
    // Gone by name: a node merely released (user.marina.managed=false) is still an instance and fails here.
    for (const name of crash) expect(await env.lxc.instance(name), `${name} is still on the host`).toBeUndefined();
    expect(await mustKubectl(kubectl, ['get', 'secrets', '-n', NS, '-l', 'marina.dev/bay=crash', '-o', 'name'])).toBe('');
    expect(await internalSecrets(crashBay.metadata.uid!)).toBe('');

    await applyBay('kept', { nodes: 2, deletionPolicy: 'Retain' });
    const kept = await waitReady('kept');
    const keptNodes = kept.status!.nodes!.map((n) => n.name);
    expect(keptNodes).toHaveLength(2);
    await mustKubectl(kubectl, ['delete', 'bay', 'kept', '-n', NS, '--timeout=180s']);
    // Each node keeps running, released: marina lists, adopts and deletes it no more, and its
    // ownership stays on the host for the record.
    for (const name of keptNodes) {
      expect((await env.lxc.instance(name))?.status, `${name} after the deletion`).toBe('Running');
      expect(await env.lxc.configGet(name, MARINA_KEYS.managed), `${name}'s ${MARINA_KEYS.managed}`).toBe('false');
      expect(await env.lxc.configGet(name, MARINA_KEYS.bayUid)).toBe(kept.metadata.uid);
    }
    for (const name of keptNodes) await env.lxc.deleteForce(name);
    // Nothing can be issued for a bay that is gone: its CA goes under Retain too; its nodes keep their certificates.
    expect(await internalSecrets(kept.metadata.uid!)).toBe('');
    // Released from the bay, so that a garbage collector keeps the credentials to reach the retained nodes.
    expect(await mustKubectl(kubectl, ['get', 'secret', 'kept-credentials', '-n', NS, '-o', 'jsonpath={.metadata.ownerReferences}'])).toBe('');
  });
});
