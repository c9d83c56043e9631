import { createHash } from 'node:crypto';
import type { Bay } from '../../api/types.generated.js';
import {
  caBundle,
  CLOCK_SKEW_ALLOWANCE_MS,
  createCertificateAuthority,
  crossSignAuthority,
  issueClientCertificate,
  issueServerCertificate,
  parseTlsPolicy,
  type CertificateAuthority,
  type TlsPolicy,
} from '../../pki/index.js';
import { internalSecretNames, legacySecretNames } from './names.js';
import { authorityOnce, derivedOnce, inspectOnce, issuedByOnce } from './parsed-pki.js';
import {
  ensureSecret,
  moveLegacySecret,
  readOwnSecret,
  writeSecret,
  type SecretAccess,
  type SecretRef,
} from './secrets.js';

/** Secret keys of kubernetes.io/tls, used for the CA, the operator's client and each node's server. */
const TLS_CRT = 'tls.crt';
const TLS_KEY = 'tls.key';
const TLS_TYPE = 'kubernetes.io/tls';
/** During a CA rotation the CA Secret also holds the old CA's certificate and the new one signed by the old. */
const PREVIOUS_CRT = 'previous.crt';
const CROSS_CRT = 'cross.crt';

/** A leaf certificate as marina keeps it, with the facts renewal is decided on. */
export interface StoredLeaf {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: string;
}

/** The bay's PKI as the controller holds it during one reconcile. Keys never leave Secrets and memory. */
export interface BayPki {
  /** The CA every new leaf is issued by. */
  readonly ca: CertificateAuthority;
  /** During a CA rotation until the old CA is dropped: the old CA, and the current one signed by it. */
  readonly previous?: { readonly caPem: string; readonly crossPem: string };
  /** marina's own client certificate for the nodes' dockerd. */
  readonly operator: StoredLeaf;
  readonly policy: TlsPolicy;
}

/** Why a leaf is issued anew; undefined when the one kept still serves. */
export type RenewalCause = 'missing' | 'expiring' | 'requested' | 'new-ca' | 'new-address';

/** What decides whether a kept leaf still serves, besides its own dates. */
export interface RenewalContext {
  readonly now: Date;
  /** Leaves issued before this moment are re-issued (a rotation was requested then). */
  readonly reissueIssuedBefore?: Date;
}

export const caSecretRef = (access: SecretAccess, bay: Bay): SecretRef => ({
  namespace: access.operatorNamespace,
  name: internalSecretNames(bay.metadata.uid!).ca,
});
const operatorSecretRef = (access: SecretAccess, bay: Bay): SecretRef => ({
  namespace: access.operatorNamespace,
  name: internalSecretNames(bay.metadata.uid!).operatorClient,
});
export const nodeSecretRef = (access: SecretAccess, bay: Bay, index: number): SecretRef => ({
  namespace: access.operatorNamespace,
  name: internalSecretNames(bay.metadata.uid!).node(index),
});

/** The bay's CA as read from its Secret, before marina's client certificate is looked at. */
export type BayAuthority = Omit<BayPki, 'operator'>;

/**
 * Phase 1, certificates: the per-bay CA, created once and stored in a Secret before anything uses it,
 * so a crash at any point never produces a second CA. Secrets an earlier release kept in the tenant's
 * namespace are moved to the operator's first.
 */
export async function ensureBayCa(access: SecretAccess, bay: Bay, signal?: AbortSignal): Promise<BayAuthority> {
  await moveLegacySecrets(access, bay, signal);
  const policy = parseTlsPolicy(bay.spec.tls);
  const caData = await ensureSecret(
    access,
    bay,
    caSecretRef(access, bay),
    TLS_TYPE,
    async () => {
      const ca = await createCertificateAuthority({ commonName: caCommonName(bay) });
      return { [TLS_CRT]: ca.certPem, [TLS_KEY]: ca.keyPem };
    },
    signal,
  );
  const ca = authorityOnce(caData[TLS_CRT]!, caData[TLS_KEY]!);
  const previous =
    caData[PREVIOUS_CRT] && caData[CROSS_CRT]
      ? { caPem: caData[PREVIOUS_CRT], crossPem: caData[CROSS_CRT] }
      : undefined;
  return { ca, ...(previous ? { previous } : {}), policy };
}

/**
 * marina's client certificate, renewed when it falls due, was requested anew, or is not of the current
 * CA. Nodes accept the new one at once (same CA, or the new CA with its cross-signed chain), so it
 * needs no rollout.
 */
export async function withOperatorClient(
  access: SecretAccess,
  bay: Bay,
  authority: BayAuthority,
  renewal: RenewalContext,
  signal?: AbortSignal,
): Promise<BayPki> {
  const ref = operatorSecretRef(access, bay);
  let operator = storedLeaf(readOwnSecret(access, bay, ref));
  if (!operator || leafRenewalCause(operator, authority.ca, authority.policy, renewal) !== undefined) {
    const issued = await issueClientCertificate(authority.ca, {
      identity: 'marina-operator',
      validityMs: authority.policy.validityMs,
      now: issueTimeOf(renewal),
    });
    await writeSecret(access, bay, ref, TLS_TYPE, { [TLS_CRT]: issued.certPem, [TLS_KEY]: issued.keyPem }, signal);
    operator = issued;
  }
  return { ...authority, operator };
}

/**
 * Starts a CA rotation: a new CA, the new CA signed by the old one, and the old CA's certificate kept,
 * all in one write of the CA Secret, so a crash leaves either the old state or the whole new one.
 * The old CA's key is not kept: nothing is issued from it again.
 */
export async function startCaRotation(
  access: SecretAccess,
  bay: Bay,
  pki: BayAuthority,
  now: Date,
  signal?: AbortSignal,
): Promise<BayAuthority> {
  const next = await createCertificateAuthority({
    commonName: caCommonName(bay),
    organization: `marina CA of ${now.toISOString()}`,
  });
  const crossPem = crossSignAuthority(next, pki.ca, now);
  const data = {
    [TLS_CRT]: next.certPem,
    [TLS_KEY]: next.keyPem,
    [PREVIOUS_CRT]: pki.ca.certPem,
    [CROSS_CRT]: crossPem,
  };
  await writeSecret(access, bay, caSecretRef(access, bay), TLS_TYPE, data, signal);
  return { ...pki, ca: authorityOnce(next.certPem, next.keyPem), previous: { caPem: pki.ca.certPem, crossPem } };
}

/** Ends a CA rotation's overlap: the old CA and the cross-signed certificate leave the CA Secret. */
export async function dropPreviousCa(
  access: SecretAccess,
  bay: Bay,
  pki: BayPki,
  signal?: AbortSignal,
): Promise<BayPki> {
  await writeSecret(
    access,
    bay,
    caSecretRef(access, bay),
    TLS_TYPE,
    { [TLS_CRT]: pki.ca.certPem, [TLS_KEY]: pki.ca.keyPem },
    signal,
  );
  return { ca: pki.ca, operator: pki.operator, policy: pki.policy };
}

const caCommonName = (bay: Bay): string => `marina bay ${bay.metadata.namespace}/${bay.metadata.name}`;

/** The CAs nodes and marina trust: the current one, and during a rotation the old one as well. */
export function trustedCaPems(pki: BayPki): string[] {
  return pki.previous ? [pki.ca.certPem, pki.previous.caPem] : [pki.ca.certPem];
}

/**
 * What a holder of a leaf of the current CA presents: the leaf, and during a rotation the current CA
 * signed by the old one, so that peers still trusting only the old CA verify it.
 */
export function presentedChain(pki: BayPki, leafPem: string): string {
  return pki.previous ? `${withNewline(leafPem)}${withNewline(pki.previous.crossPem)}` : withNewline(leafPem);
}

const withNewline = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/**
 * A digest of the TLS files a node's dockerd runs with — the CAs it trusts and the chain it serves —
 * recorded per node in status. A node whose recorded digest differs from the bay's current one is
 * restarted in the next rollout; that comparison alone drives every restart for certificates.
 */
export function tlsGeneration(pki: BayPki, leafPem: string): string {
  const trusted = trustedCaPems(pki);
  const chain = presentedChain(pki, leafPem);
  // Computed for every node at every resync: once per content, not once per reconcile.
  return derivedOnce('tls-generation', [...trusted, chain], () =>
    createHash('sha256').update(caBundle(trusted)).update('\0').update(chain).digest('hex').slice(0, 16),
  );
}

/**
 * Whether a kept leaf must be issued anew, and why: it falls due (within renewBefore of its expiry),
 * was issued before a requested rotation began, or is not of the current CA. Pure, for the unit tests.
 */
export function leafRenewalCause(
  leaf: StoredLeaf,
  ca: CertificateAuthority,
  policy: TlsPolicy,
  renewal: RenewalContext,
): RenewalCause | undefined {
  if (renewal.now.getTime() >= leaf.notAfter.getTime() - policy.renewBeforeMs) return 'expiring';
  if (renewal.reissueIssuedBefore && issuedAt(leaf) < renewal.reissueIssuedBefore.getTime()) return 'requested';
  if (!issuedByOnce(leaf.certPem, ca.certPem)) return 'new-ca';
  return undefined;
}

/**
 * The time a leaf issued now is stamped with: now, or the start of a requested rotation when that is
 * still ahead (at most a second), so the new leaf counts as issued for the rotation.
 */
export function issueTimeOf(renewal: RenewalContext): Date {
  const start = renewal.reissueIssuedBefore;
  return start && start.getTime() > renewal.now.getTime() ? start : renewal.now;
}

/** When a leaf was issued: its notBefore lies the clock-skew allowance before that. */
const issuedAt = (leaf: StoredLeaf): number => leaf.notBefore.getTime() + CLOCK_SKEW_ALLOWANCE_MS;

/** The moment a leaf falls due for renewal. */
export const renewalTimeOf = (leaf: { readonly notAfter: Date }, policy: TlsPolicy): Date =>
  new Date(leaf.notAfter.getTime() - policy.renewBeforeMs);

/** A node's kept server certificate, read from the cache only, whatever its state. */
export function storedNodeLeaf(access: SecretAccess, bay: Bay, index: number): StoredLeaf | undefined {
  return storedLeaf(readOwnSecret(access, bay, nodeSecretRef(access, bay, index)));
}

/** Why the node's kept server certificate cannot be served as it is, or undefined when it can. */
export function nodeLeafRenewalCause(
  leaf: StoredLeaf | undefined,
  pki: BayPki,
  address: string,
  renewal: RenewalContext,
): RenewalCause | undefined {
  if (!leaf) return 'missing';
  if (!inspectOnce(leaf.certPem).sans.ipAddresses.includes(address)) return 'new-address';
  return leafRenewalCause(leaf, pki.ca, pki.policy, renewal);
}

/**
 * The node's dockerd server certificate for its current address: the kept one while it serves, a new
 * one (stored before it is used) otherwise.
 */
export async function ensureNodeLeaf(
  access: SecretAccess,
  bay: Bay,
  pki: BayPki,
  node: { readonly name: string; readonly index: number; readonly address: string },
  renewal: RenewalContext,
  signal?: AbortSignal,
): Promise<StoredLeaf> {
  const kept = storedNodeLeaf(access, bay, node.index);
  if (kept && nodeLeafRenewalCause(kept, pki, node.address, renewal) === undefined) return kept;
  const issued = await issueServerCertificate(pki.ca, {
    commonName: node.name,
    ipAddresses: [node.address],
    dnsNames: [node.name],
    includeLoopback: true,
    validityMs: pki.policy.validityMs,
    now: issueTimeOf(renewal),
  });
  await writeSecret(
    access,
    bay,
    nodeSecretRef(access, bay, node.index),
    TLS_TYPE,
    { [TLS_CRT]: issued.certPem, [TLS_KEY]: issued.keyPem },
    signal,
  );
  return issued;
}

function storedLeaf(data: Record<string, string> | undefined): StoredLeaf | undefined {
  const certPem = data?.[TLS_CRT];
  const keyPem = data?.[TLS_KEY];
  if (!certPem || !keyPem) return undefined;
  const info = inspectOnce(certPem);
  return { certPem, keyPem, notBefore: info.notBefore, notAfter: info.notAfter, serial: info.serial };
}

/** The CA, marina's client and the nodes' keys, from where an earlier marina kept them in the tenant's namespace. */
async function moveLegacySecrets(access: SecretAccess, bay: Bay, signal?: AbortSignal): Promise<void> {
  const legacy = legacySecretNames(bay.metadata.name!);
  const inTenantNamespace = (name: string): SecretRef => ({ namespace: bay.metadata.namespace!, name });
  await moveLegacySecret(access, bay, inTenantNamespace(legacy.ca), caSecretRef(access, bay), TLS_TYPE, signal);
  await moveLegacySecret(
    access,
    bay,
    inTenantNamespace(legacy.operatorClient),
    operatorSecretRef(access, bay),
    TLS_TYPE,
    signal,
  );
  for (const node of bay.status?.nodes ?? []) {
    await moveLegacySecret(
      access,
      bay,
      inTenantNamespace(legacy.node(node.name)),
      nodeSecretRef(access, bay, node.index),
      TLS_TYPE,
      signal,
    );
  }
}
