import type { Bay } from '../../api/types.generated.js';
import { BUNDLE_FILES, caBundle, issueClientCertificate } from '../../pki/index.js';
import {
  issueTimeOf,
  leafRenewalCause,
  presentedChain,
  trustedCaPems,
  type BayPki,
  type RenewalContext,
} from './certificates.js';
import { credentialsSecretName } from './names.js';
import { bundleOnce, inspectOnce } from './parsed-pki.js';
import { readOwnSecret, writeSecret, type SecretAccess } from './secrets.js';

export interface PublishedCredentials {
  readonly secretName: string;
  readonly clientNotAfter: Date;
}

/**
 * The credentials phase: the tenant's bundle (ca.pem, cert.pem, key.pem and the docker.env/.fish/.ps1/.cmd scripts)
 * in a Secret of the bay's namespace, owned by the bay. The client certificate is kept until it falls
 * due or a rotation asks for a new one; the scripts follow the endpoint. While nodes are still moving
 * to a new CA (`holdOldCa`), the old bundle stays out: it works on every node until the overlap ends,
 * where a bundle of the new CA would be refused by nodes not restarted yet.
 */
export async function publishCredentials(
  access: SecretAccess,
  bay: Bay,
  pki: BayPki,
  endpoint: string,
  renewal: RenewalContext & { readonly holdOldCa: boolean },
  signal?: AbortSignal,
): Promise<PublishedCredentials> {
  const secretName = credentialsSecretName(bay.metadata.name!);
  const ref = { namespace: bay.metadata.namespace!, name: secretName };
  const existing = readOwnSecret(access, bay, ref);
  const kept = keptClient(existing);
  const cause = kept ? leafRenewalCause(kept, pki.ca, pki.policy, renewal) : 'missing';
  const keepOldBundle =
    kept !== undefined && existing?.[BUNDLE_FILES.ca] !== undefined && cause === 'new-ca' && renewal.holdOldCa;
  let files: { caPem: string; certPem: string; keyPem: string };
  if (keepOldBundle) {
    files = { caPem: existing[BUNDLE_FILES.ca]!, certPem: kept.certPem, keyPem: kept.keyPem };
  } else if (kept && cause === undefined) {
    files = { caPem: pki.ca.certPem, certPem: kept.certPem, keyPem: kept.keyPem };
  } else {
    const identity = `bay-user:${bay.metadata.namespace}/${bay.metadata.name}`;
    const issued = await issueClientCertificate(pki.ca, {
      identity,
      validityMs: pki.policy.validityMs,
      now: issueTimeOf(renewal),
    });
    // Issued while nodes still move to a new CA: a chain and trust that work on both kinds of node.
    files = renewal.holdOldCa
      ? { caPem: caBundle(trustedCaPems(pki)), certPem: presentedChain(pki, issued.certPem), keyPem: issued.keyPem }
      : { caPem: pki.ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem };
  }
  await writeSecret(access, bay, ref, 'Opaque', bundleOnce(files.caPem, files.certPem, files.keyPem, endpoint), signal);
  return { secretName, clientNotAfter: inspectOnce(files.certPem).notAfter };
}

function keptClient(data: Record<string, string> | undefined) {
  const certPem = data?.[BUNDLE_FILES.cert];
  const keyPem = data?.[BUNDLE_FILES.key];
  if (!certPem || !keyPem) return undefined;
  const info = inspectOnce(certPem);
  return { certPem, keyPem, notBefore: info.notBefore, notAfter: info.notAfter, serial: info.serial };
}
