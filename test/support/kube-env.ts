import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { repoRoot } from './paths.js';
import { ManagedProcess, freePort, run, waitFor, type RunResult } from './processes.js';
import { createTestCa, loadTestCa, type TestCa, type TestKeyPair } from './test-pki.js';


/**
 * A real kube-apiserver + etcd on loopback for one test run, in the spirit of controller-runtime's
 * envtest: RBAC on, client-certificate identities, the marina CRDs installed. Nothing is faked.
 */
export interface KubeEnv {
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfigPath: string;
  /** Holds the environment's CA (ca.crt, ca.key), so that other processes of the run can mint identities. */
  readonly dir: string;
  readonly server: string;
  /** Directory that holds kubectl, kube-apiserver, kube-controller-manager and etcd. */
  readonly binDir: string;
  /** etcd's client URL; its v3 JSON gateway answers under /v3/. */
  readonly etcdUrl: string;
  kubeConfig(): KubeConfig;
  kubectl(args: readonly string[], opts?: { input?: string; kubeconfig?: string }): Promise<RunResult>;
  /** Writes a kubeconfig for a new client-certificate identity; RBAC decides what it may do. */
  mintUser(name: string, groups?: readonly string[]): Promise<string>;
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  restartApiserver(): Promise<void>;
  /** Compacts etcd at its current revision, so that older resourceVersions answer 410 Gone. */
  compactEtcd(): Promise<number>;
  stop(): Promise<void>;
}

export interface KubeEnvOptions {
  readonly installCrds?: boolean;
  readonly apiserverArgs?: readonly string[];
}

export const crdDir = join(repoRoot, 'crds');

/** Runs tools/k8s-binaries.sh, which honours KUBEBUILDER_ASSETS or builds the binaries once into a cache. */
export async function kubeBinDir(): Promise<string> {
  const result = await run('bash', [join(repoRoot, 'tools', 'k8s-binaries.sh')], { timeoutMs: 60 * 60_000 });
  if (result.code !== 0) throw new Error(`tools/k8s-binaries.sh failed (${result.code}):\n${result.stderr.slice(-4000)}`);
  const dir = result.stdout.trim().split('\n').pop();
  if (!dir) throw new Error('tools/k8s-binaries.sh printed no directory');
  return dir;
}

export async function startKubeEnv(opts: KubeEnvOptions = {}): Promise<KubeEnv> {
  const binDir = await kubeBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'marina-kube-'));
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const ca = createTestCa('marina-test-kube-ca');
  const files = await writeApiserverFiles(dir, ca);

  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = new ManagedProcess('etcd', join(binDir, 'etcd'), [
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ], join(dir, 'etcd.log'));

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserver = new ManagedProcess('kube-apiserver', join(binDir, 'kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=https://kubernetes.default.svc`,
    `--service-account-key-file=${files.saKey}`,
    `--service-account-signing-key-file=${files.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/24',
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    ...(opts.apiserverArgs ?? []),
  ], join(dir, 'kube-apiserver.log'));

  const admin = ca.issue({ commonName: 'marina-test-admin', organizations: ['system:masters'] });
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigYaml(server, ca.certPem, 'admin', admin), { mode: 0o600 });

  const startApiserver = async (): Promise<void> => {
    apiserver.start();
    try {
      await waitFor('kube-apiserver /readyz', () => readyz(server, ca.certPem, admin), 90_000, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- kube-apiserver log ---\n${apiserver.logTail()}`);
    }
  };
  // Only the ResourceQuota controller: it computes quota usage, without which the apiserver's quota
  // admission refuses every object a quota counts. No garbage collector: tests see owner references as is.
  const controllerManager = new ManagedProcess('kube-controller-manager', join(binDir, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfigPath}`,
    '--controllers=resourcequota',
    '--leader-elect=false',
    '--secure-port=0',
    '--use-service-account-credentials=false',
    '--resource-quota-sync-period=15s',
  ], join(dir, 'kube-controller-manager.log'));

  const kubectl = (args: readonly string[], o: { input?: string; kubeconfig?: string } = {}): Promise<RunResult> =>
    run(join(binDir, 'kubectl'), ['--kubeconfig', o.kubeconfig ?? kubeconfigPath, ...args], { input: o.input ?? '' });

  const stop = async (): Promise<void> => {
    await controllerManager.stop();
    await apiserver.stop();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    etcd.start();
    await waitFor('etcd health', async () => ((await fetch(`${etcdUrl}/health`)).ok ? true : undefined), 30_000);
    await startApiserver();
    controllerManager.start();
    if (opts.installCrds ?? true) await installCrds(kubectl);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    kubeconfigPath,
    dir,
    server,
    binDir,
    etcdUrl,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    kubectl,
    mintUser: (name, groups) => mintUser(dir, name, groups),
    stopApiserver: () => apiserver.stop(),
    startApiserver,
    async restartApiserver() {
      await apiserver.stop();
      await startApiserver();
    },
    compactEtcd: () => compactEtcd(etcdUrl),
    stop,
  };
}

/**
 * Writes a kubeconfig for a new client-certificate identity of the environment in `envDir`; RBAC decides
 * what it may do. Usable from any test file, given the directory the global set-up provides.
 */
export async function mintUser(envDir: string, name: string, groups: readonly string[] = []): Promise<string> {
  const ca = loadTestCa(await readFile(join(envDir, 'ca.crt'), 'utf8'), await readFile(join(envDir, 'ca.key'), 'utf8'));
  const admin = await readFile(join(envDir, 'admin.kubeconfig'), 'utf8');
  const server = admin.match(/server: (\S+)/)?.[1];
  if (!server) throw new Error(`no server in ${envDir}/admin.kubeconfig`);
  const path = join(envDir, `user-${name}-${Date.now()}.kubeconfig`);
  await writeFile(path, kubeconfigYaml(server, ca.certPem, name, ca.issue({ commonName: name, organizations: groups })), { mode: 0o600 });
  return path;
}

async function installCrds(kubectl: KubeEnv['kubectl']): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', '-f', crdDir]);
  if (applied.code !== 0) throw new Error(`installing CRDs failed: ${applied.stderr}`);
  const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crdDir]);
  if (established.code !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
  // Established does not mean published: discovery and OpenAPI (kubectl explain) lag behind a moment.
  const explainable = async (): Promise<true | undefined> => {
    for (const kind of ['bay.spec', 'hostaggregate.spec']) if ((await kubectl(['explain', kind])).code !== 0) return undefined;
    return true;
  };
  await waitFor('the marina kinds in OpenAPI', explainable, 60_000, 500);
}

interface ApiserverFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly saKey: string;
}

async function writeApiserverFiles(dir: string, ca: TestCa): Promise<ApiserverFiles> {
  const serving = ca.issue({ commonName: 'kube-apiserver', server: true, ips: ['127.0.0.1'], dns: ['localhost'] });
  // Service-account tokens need a signing key; the apiserver derives the verifying key from it too.
  const sa = ca.issue({ commonName: 'service-accounts' });
  const files: ApiserverFiles = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    saKey: join(dir, 'sa.key'),
  };
  await writeFile(files.caCert, ca.certPem);
  await writeFile(files.caKey, ca.keyPem, { mode: 0o600 });
  await writeFile(files.servingCert, serving.certPem);
  await writeFile(files.servingKey, serving.keyPem, { mode: 0o600 });
  await writeFile(files.saKey, sa.keyPem, { mode: 0o600 });
  return files;
}

function kubeconfigYaml(server: string, caPem: string, user: string, identity: TestKeyPair): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'marina-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(identity.certPem), 'client-key-data': b64(identity.keyPem) } }],
    contexts: [{ name: user, context: { cluster: 'marina-test', user } }],
    'current-context': user,
  });
}

function readyz(server: string, caPem: string, identity: TestKeyPair): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = request(`${server}/readyz`, { ca: caPem, cert: identity.certPem, key: identity.keyPem, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.once('error', () => resolve(undefined));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('\0').toString('base64'), limit: 1 });
  const revision = Number((range.header as { revision?: string } | undefined)?.revision);
  if (!Number.isFinite(revision)) throw new Error('etcd returned no revision');
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
