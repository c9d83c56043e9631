import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../pki/index.js';
import { exists, waitUntil } from './checks.js';
import { runningPid, startDaemon, stopDaemon, type Daemon } from './daemons.js';
import { PLAYGROUND_PORTS, type PlaygroundPaths } from './paths.js';

const YEAR_MS = 365 * 24 * 3600_000;
export const apiserverUrl = `https://127.0.0.1:${PLAYGROUND_PORTS.apiserver}`;
const etcdUrl = `http://127.0.0.1:${PLAYGROUND_PORTS.etcdClient}`;

interface ControlPlaneFiles {
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly saKey: string;
  readonly admin: { readonly certPem: string; readonly keyPem: string };
  readonly caPem: string;
}

/**
 * The control plane's certificates, made once and kept: a restarted apiserver serves the same CA, so
 * kubeconfigs and service-account tokens stay valid across `marina up` runs.
 */
async function ensurePki(paths: PlaygroundPaths): Promise<ControlPlaneFiles> {
  await mkdir(paths.pki, { recursive: true, mode: 0o700 });
  const file = (name: string): string => join(paths.pki, name);
  if (!(await exists(file('admin.key')))) {
    const ca = await createCertificateAuthority({ commonName: 'marina playground', validityMs: 10 * YEAR_MS });
    const serving = await issueServerCertificate(ca, {
      commonName: 'kube-apiserver',
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['localhost'],
      validityMs: 10 * YEAR_MS,
    });
    const admin = await issueClientCertificate(ca, {
      identity: 'playground-admin',
      organizations: ['system:masters'],
      validityMs: 10 * YEAR_MS,
    });
    // Service-account tokens are signed with this key; the apiserver verifies with the same.
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await writeFile(file('ca.crt'), ca.certPem);
    await writeFile(file('ca.key'), ca.keyPem, { mode: 0o600 });
    await writeFile(file('apiserver.crt'), serving.certPem);
    await writeFile(file('apiserver.key'), serving.keyPem, { mode: 0o600 });
    await writeFile(file('sa.key'), sa.toString(), { mode: 0o600 });
    await writeFile(file('admin.crt'), admin.certPem);
    // Written last: its presence says the whole set exists.
    await writeFile(file('admin.key'), admin.keyPem, { mode: 0o600 });
  }
  const ca: CertificateAuthority = loadCertificateAuthority({
    certPem: await readFile(file('ca.crt'), 'utf8'),
    keyPem: await readFile(file('ca.key'), 'utf8'),
  });
  return {
    caCert: file('ca.crt'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    saKey: file('sa.key'),
    caPem: ca.certPem,
    admin: { certPem: await readFile(file('admin.crt'), 'utf8'), keyPem: await readFile(file('admin.key'), 'utf8') },
  };
}

export function etcdDaemon(paths: PlaygroundPaths, binDir: string): Daemon {
  const peer = `http://127.0.0.1:${PLAYGROUND_PORTS.etcdPeer}`;
  return {
    name: 'etcd',
    command: join(binDir, 'etcd'),
    args: [
      `--data-dir=${paths.etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--log-level=warn',
    ],
    runDir: paths.run,
    logDir: paths.logs,
  };
}

export function apiserverDaemon(paths: PlaygroundPaths, binDir: string): Daemon {
  const file = (name: string): string => join(paths.pki, name);
  return {
    name: 'kube-apiserver',
    command: join(binDir, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${PLAYGROUND_PORTS.apiserver}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--tls-cert-file=${file('apiserver.crt')}`,
      `--tls-private-key-file=${file('apiserver.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${file('sa.key')}`,
      `--service-account-signing-key-file=${file('sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      // No controller manager runs: nothing would fill in the ServiceAccount admission's tokens.
      '--disable-admission-plugins=ServiceAccount',
    ],
    runDir: paths.run,
    logDir: paths.logs,
  };
}

/** etcd and kube-apiserver running and ready; started only when not already running. Returns what it started. */
export async function ensureControlPlane(paths: PlaygroundPaths, binDir: string): Promise<string[]> {
  for (const dir of [paths.run, paths.logs]) await mkdir(dir, { recursive: true });
  const files = await ensurePki(paths);
  await writeFile(paths.adminKubeconfig, adminKubeconfig(files), { mode: 0o600 });
  const started: string[] = [];
  const etcd = etcdDaemon(paths, binDir);
  if ((await runningPid(etcd)) === undefined) {
    await startDaemon(etcd);
    started.push('etcd');
  }
  await waitUntil(
    'etcd to answer',
    async () => (await fetch(`${etcdUrl}/health`).catch(() => undefined))?.ok === true,
    30_000,
  );
  const apiserver = apiserverDaemon(paths, binDir);
  if ((await runningPid(apiserver)) === undefined) {
    await startDaemon(apiserver);
    started.push('kube-apiserver');
  }
  await waitUntil('kube-apiserver /readyz', () => readyz(files), 120_000);
  return started;
}

export async function stopControlPlane(paths: PlaygroundPaths, binDir: string): Promise<string[]> {
  const stopped: string[] = [];
  if (await stopDaemon(apiserverDaemon(paths, binDir))) stopped.push('kube-apiserver');
  if (await stopDaemon(etcdDaemon(paths, binDir))) stopped.push('etcd');
  return stopped;
}

function adminKubeconfig(files: ControlPlaneFiles): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'marina-playground', cluster: { server: apiserverUrl, 'certificate-authority-data': b64(files.caPem) } },
    ],
    users: [
      {
        name: 'playground-admin',
        user: { 'client-certificate-data': b64(files.admin.certPem), 'client-key-data': b64(files.admin.keyPem) },
      },
    ],
    contexts: [{ name: 'marina-playground', context: { cluster: 'marina-playground', user: 'playground-admin' } }],
    'current-context': 'marina-playground',
  });
}

function readyz(files: ControlPlaneFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${apiserverUrl}/readyz`,
      { ca: files.caPem, cert: files.admin.certPem, key: files.admin.keyPem, timeout: 2_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}
