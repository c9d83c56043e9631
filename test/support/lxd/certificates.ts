import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { certificateFingerprint } from '../../../src/hosts/fingerprint.js';
import { createLxdClient } from '../../../src/hosts/lxd/connect.js';
import { trustClientCertificate } from '../../../src/hosts/lxd/trust.js';
import { defaultCacheRoot } from '../../../src/hosts/lxd/node-image/cache.js';
import { run } from '../processes.js';
import type { LxdTestHost } from './host.js';

/** A client certificate and its key, as marina keeps them in a host's Secret. */
export interface ClientIdentity {
  readonly certificate: string;
  readonly key: string;
  readonly fingerprint: string;
}

/** A fresh self-signed ECDSA P-256 client certificate, made by the openssl CLI. */
export async function makeClientIdentity(commonName: string, days = 30): Promise<ClientIdentity> {
  const dir = await mkdtemp(join(tmpdir(), 'marina-client-cert-'));
  try {
    const [certPath, keyPath] = [join(dir, 'client.crt'), join(dir, 'client.key')];
    const result = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', String(days), '-subj', `/CN=${commonName}`, '-keyout', keyPath, '-out', certPath,
    ]);
    if (result.code !== 0) throw new Error(`openssl failed: ${result.stderr}`);
    const certificate = await readFile(certPath, 'utf8');
    return { certificate, key: await readFile(keyPath, 'utf8'), fingerprint: certificateFingerprint(certificate) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The e2e tests' client identity: made once, kept in the cache (outside the repository), and trusted
 * by the host through its unix socket — the way an admin trusts marina (docs/hosts.md).
 */
export async function trustedTestIdentity(host: LxdTestHost): Promise<ClientIdentity> {
  const dir = join(defaultCacheRoot(), 'test-lxd');
  const identity =
    (await readIdentity(dir)) ?? (await writeIdentity(dir, await makeClientIdentity('marina-e2e', 365)));
  const client = createLxdClient(host.socketEndpoint, undefined, { name: 'e2e-host' });
  try {
    await trustClientCertificate(client, identity.certificate, 'marina-e2e');
  } finally {
    client.close();
  }
  return identity;
}

/** The cached identity, unless missing or within a week of expiry (LXD refuses expired certificates). */
async function readIdentity(dir: string): Promise<ClientIdentity | undefined> {
  try {
    const certificate = await readFile(join(dir, 'client.crt'), 'utf8');
    const key = await readFile(join(dir, 'client.key'), 'utf8');
    const expires = new Date(new X509Certificate(certificate).validTo).getTime();
    if (expires - Date.now() < 7 * 24 * 60 * 60_000) return undefined;
    return { certificate, key, fingerprint: certificateFingerprint(certificate) };
  } catch {
    return undefined;
  }
}

async function writeIdentity(dir: string, identity: ClientIdentity): Promise<ClientIdentity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'client.crt'), identity.certificate);
  await writeFile(join(dir, 'client.key'), identity.key, { mode: 0o600 });
  return identity;
}
