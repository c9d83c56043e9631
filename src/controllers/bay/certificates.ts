import type { Bay } from '../../api/types.generated.js';
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  parseTlsPolicy,
  type CertificateAuthority,
} from '../../pki/index.js';
import { caSecretName, nodeTlsSecretName, operatorClientSecretName } from './names.js';
import { authorityOnce, inspectOnce, issuedByOnce } from './parsed-pki.js';
import { ensureSecret, readOwnSecret, writeSecret, type SecretAccess } from './secrets.js';

/** Secret keys of kubernetes.io/tls, used for the CA, the operator's client and each node's server. */
const TLS_CRT = 'tls.crt';
const TLS_KEY = 'tls.key';
const TLS_TYPE = 'kubernetes.io/tls';

/** The bay's PKI as the controller holds it during one reconcile. Keys never leave Secrets and memory. */
export interface BayPki {
  readonly ca: CertificateAuthority;
  /** marina's own client certificate for the nodes' dockerd. */
  readonly operator: { readonly certPem: string; readonly keyPem: string; readonly notAfter: Date };
  readonly validityMs: number;
}

/**
 * Phase 1, certificates: the per-bay CA and the operator's client certificate, each created once and
 * stored in a Secret before anything uses it, so a crash at any point never produces a second CA.
 */
export async function ensureBayPki(access: SecretAccess, bay: Bay, signal?: AbortSignal): Promise<BayPki> {
  const name = bay.metadata.name!;
  const policy = parseTlsPolicy(bay.spec.tls);
  const caData = await ensureSecret(access, bay, caSecretName(name), TLS_TYPE, async () => {
    const ca = await createCertificateAuthority({ commonName: `marina bay ${bay.metadata.namespace}/${name}` });
    return { [TLS_CRT]: ca.certPem, [TLS_KEY]: ca.keyPem };
  }, signal);
  const ca = authorityOnce(caData[TLS_CRT]!, caData[TLS_KEY]!);
  const operatorData = await ensureSecret(access, bay, operatorClientSecretName(name), TLS_TYPE, async () => {
    const cert = await issueClientCertificate(ca, { identity: 'marina-operator', validityMs: policy.validityMs });
    return { [TLS_CRT]: cert.certPem, [TLS_KEY]: cert.keyPem };
  }, signal);
  const operatorCert = operatorData[TLS_CRT]!;
  return { ca, operator: { certPem: operatorCert, keyPem: operatorData[TLS_KEY]!, notAfter: inspectOnce(operatorCert).notAfter }, validityMs: policy.validityMs };
}

export interface NodeServerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
  readonly fingerprint256: string;
}

/**
 * The node's stored server certificate when it still serves: it names the node's address and was
 * issued by the bay's CA. Read from the cache only, so a settled node costs no request.
 */
export function storedNodeCertificate(access: SecretAccess, bay: Bay, pki: BayPki, node: { name: string; address: string }): NodeServerCertificate | undefined {
  const stored = readOwnSecret(access, bay, nodeTlsSecretName(node.name));
  const storedCert = stored?.[TLS_CRT];
  if (!storedCert || !stored[TLS_KEY]) return undefined;
  const info = inspectOnce(storedCert);
  if (!info.sans.ipAddresses.includes(node.address) || !issuedByOnce(storedCert, pki.ca.certPem)) return undefined;
  return { certPem: storedCert, keyPem: stored[TLS_KEY], notAfter: info.notAfter, fingerprint256: info.fingerprint256 };
}

/**
 * The node's dockerd server certificate for its current address: kept while it names the address and
 * was issued by the bay's CA, issued anew otherwise (the node's address changed, or the Secret is gone).
 */
export async function ensureNodeServerCertificate(access: SecretAccess, bay: Bay, pki: BayPki, node: { name: string; address: string }, signal?: AbortSignal): Promise<NodeServerCertificate> {
  const kept = storedNodeCertificate(access, bay, pki, node);
  if (kept) return kept;
  const issued = await issueServerCertificate(pki.ca, { commonName: node.name, ipAddresses: [node.address], dnsNames: [node.name], includeLoopback: true, validityMs: pki.validityMs });
  await writeSecret(access, bay, nodeTlsSecretName(node.name), TLS_TYPE, { [TLS_CRT]: issued.certPem, [TLS_KEY]: issued.keyPem }, signal);
  return { certPem: issued.certPem, keyPem: issued.keyPem, notAfter: issued.notAfter, fingerprint256: issued.fingerprint256 };
}
