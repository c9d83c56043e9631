import { X509Certificate } from 'node:crypto';

import { normalizeFingerprint } from '../fingerprint.js';
import type { CertificatesPost } from './api-types.js';
import type { CallContext, LxdClient } from './client.js';
import { isConflict } from './envelope.js';
import { HostApiError } from '../errors.js';

export type TrustResult = 'added' | 'already-trusted';

/**
 * Adds marina's client certificate to a host's trust store. Meant for the host's unix socket (root on
 * the host needs no certificate there), e.g. from a set-up script or `marina up`.
 *
 * LXD decodes `certificate` as base64 of the DER bytes and rejects a full PEM ("malformed
 * certificate"); Incus accepts both, so base64 DER is sent to either.
 */
export async function trustClientCertificate(
  client: LxdClient,
  certificatePem: string,
  name: string,
): Promise<TrustResult> {
  const certificate = Buffer.from(new X509Certificate(certificatePem).raw).toString('base64');
  return postCertificate(client, { type: 'client', name, certificate }, { operation: 'trust-certificate' });
}

/** A trust token as `lxc config trust add --name marina` prints it: base64 of this JSON. */
export interface TrustToken {
  readonly clientName: string;
  /** The host's server certificate: pin it when connecting to redeem the token. */
  readonly fingerprint: string;
  readonly addresses: readonly string[];
  readonly expiresAt: string | undefined;
}

export class InvalidTrustTokenError extends Error {
  constructor(reason: string) {
    super(`not a trust token: ${reason}`);
    this.name = 'InvalidTrustTokenError';
  }
}

export function decodeTrustToken(token: string): TrustToken {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(token.trim(), 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new InvalidTrustTokenError('not base64-encoded JSON');
  }
  const fingerprint = typeof json.fingerprint === 'string' ? normalizeFingerprint(json.fingerprint) : undefined;
  if (fingerprint === undefined || typeof json.secret !== 'string') {
    throw new InvalidTrustTokenError('fingerprint or secret missing');
  }
  return {
    clientName: typeof json.client_name === 'string' ? json.client_name : '',
    fingerprint,
    addresses: Array.isArray(json.addresses) ? json.addresses.filter((a): a is string => typeof a === 'string') : [],
    expiresAt: typeof json.expires_at === 'string' ? json.expires_at : undefined,
  };
}

/**
 * Redeems a trust token over HTTPS with marina's client certificate, making that certificate trusted.
 * The client must pin `decodeTrustToken(token).fingerprint`, so the secret only goes to the host that
 * issued it. LXD 5.0 takes the token in the `password` field, newer LXD and Incus in `trust_token`;
 * which one a host is cannot be told before it trusts the client (Incus 6.0 lists no
 * `explicit_trust_token` extension, and answers a token sent as `password` alone with success while
 * trusting nothing), so both fields carry it: each daemon reads its own and ignores the other.
 */
export async function redeemTrustToken(client: LxdClient, token: string): Promise<TrustResult> {
  const call: CallContext = { operation: 'redeem-trust-token' };
  const server = await client.server();
  if (server.trusted) return 'already-trusted';
  const body: CertificatesPost = { type: 'client', trust_token: token.trim(), password: token.trim() };
  const result = await postCertificate(client, body, call);
  client.forgetServer();
  return result;
}

async function postCertificate(client: LxdClient, body: CertificatesPost, call: CallContext): Promise<TrustResult> {
  try {
    await client.call('POST', '/1.0/certificates', call, { json: body });
    return 'added';
  } catch (error) {
    if (isConflict(error) || isAlreadyTrusted(error)) return 'already-trusted';
    throw error;
  }
}

/** LXD answers a trusted client re-posting with 400 "Client is already trusted". */
function isAlreadyTrusted(error: unknown): boolean {
  return error instanceof HostApiError && /already trusted/i.test(error.message);
}
