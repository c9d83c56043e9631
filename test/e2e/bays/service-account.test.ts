import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { getBay } from '../../support/bays/cluster.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { OperatorProcess } from '../../support/bays/operator.js';
import { operatorServiceAccountKubeconfig } from '../../support/bays/service-account.js';
import { mustKubectl } from '../../support/kubectl.js';
import { instanceNames, nodeIndex, ofBay } from '../../support/lxd/index.js';
import { freePort, run, waitFor } from '../../support/processes.js';
import { startDockerEngine } from '../../support/docker-engine.js';
import { trustedTestIdentity } from '../../support/lxd/index.js';
import { repoRoot } from '../../support/paths.js';

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

  it('the operator image runs under a Docker engine as a Pod would (in-cluster token, hosts over HTTPS) and makes a bay Ready', async () => {
    await env.operator.stop();
    const engine = await startDockerEngine();
    const saDir = await mkdtemp(join(tmpdir(), 'marina-sa-'));
    const container = `marina-image-${Date.now()}`;
    try {
      const built = await run('bash', [join(repoRoot, 'tools', 'build-operator-image.sh'), '--docker-host', engine.host], { timeoutMs: 600_000 });
      expect(built.code, built.stderr).toBe(0);
      const tag = built.stdout.trim();
      expect(tag).toBe(await deploymentImage());
      const inspected = JSON.parse((await engine.docker(['image', 'inspect', tag])).stdout) as { Config: { User: string } }[];
      expect(inspected[0]!.Config.User).toBe('65532:65532');

      // What the kubelet mounts into a Pod of the Deployment: the ServiceAccount's token, the cluster CA.
      await operatorServiceAccountKubeconfig(kubectl, env.kubeconfig);
      const admin = parse(await readFile(env.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
      const cluster = admin.clusters[0]!.cluster;
      const token = (await mustKubectl(kubectl, ['create', 'token', 'marina-operator', '-n', 'marina-system', '--duration', '1h'])).trim();
      await writeFile(join(saDir, 'token'), token);
      await writeFile(join(saDir, 'ca.crt'), Buffer.from(cluster['certificate-authority-data'], 'base64'));
      await writeFile(join(saDir, 'namespace'), 'marina-system');
      await chmod(saDir, 0o755);
      for (const f of ['token', 'ca.crt', 'namespace']) await chmod(join(saDir, f), 0o644);

      // A non-root operator reaches its host over HTTPS with a client certificate the host trusts.
      const identity = await trustedTestIdentity(env.host);
      await mustKubectl(kubectl, ['create', 'secret', 'generic', 'local-lxd', '-n', 'marina-system',
        `--from-literal=tls.crt=${identity.certificate}`, `--from-literal=tls.key=${identity.key}`,
        `--from-literal=serverFingerprint=${env.host.serverFingerprint}`]);
      const https = { name: 'localhost', endpoint: env.host.httpsEndpoint, credentialsSecretRef: { name: 'local-lxd', namespace: 'marina-system' } };
      await mustKubectl(kubectl, ['patch', 'hostaggregate', env.aggregate, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/hosts/0', value: https }])]);

      const server = new URL(cluster.server);
      const started = await engine.docker(['run', '-d', '--name', container, '--network', 'host',
        '-v', `${saDir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
        '-e', `KUBERNETES_SERVICE_HOST=${server.hostname}`, '-e', `KUBERNETES_SERVICE_PORT=${server.port}`,
        '-e', 'POD_NAMESPACE=marina-system', tag,
        'run', '--health-address', '127.0.0.1', '--health-port', String(await freePort()), '--probe-interval', '5']);
      expect(started.code, started.stderr).toBe(0);

      await env.applyBay('imaged', { nodes: 1 });
      const bay = await env.waitReady('imaged').catch(async (err: Error) => {
        throw new Error(`${err.message}\n--- container log ---\n${(await engine.docker(['logs', '--tail', '80', container])).stderr}`);
      });
      expect(bay.status?.readyNodes).toBe(1);
      await mustKubectl(kubectl, ['delete', 'bay', 'imaged', '-n', NS, '--timeout=180s']);
      const logs = await engine.docker(['logs', container]);
      expect(`${logs.stdout}${logs.stderr}`).not.toMatch(/Forbidden| 403 /);
    } finally {
      await engine.docker(['rm', '-f', container]);
      await engine.stop();
      await rm(saDir, { recursive: true, force: true });
    }
  });
});

/** The image deploy/operator.yaml's Deployment runs. */
async function deploymentImage(): Promise<string> {
  const docs = parseAllDocuments(await readFile(join(repoRoot, 'deploy', 'operator.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  const deployment = docs.find((d) => d['kind'] === 'Deployment') as { spec: { template: { spec: { containers: { image: string }[] } } } };
  return deployment.spec.template.spec.containers[0]!.image;
}
