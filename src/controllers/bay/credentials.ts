import type { Bay } from '../../api/types.generated.js';
import { BUNDLE_FILES, issueClientCertificate } from '../../pki/index.js';
import type { BayPki } from './certificates.js';
import { credentialsSecretName } from './names.js';
import { bundleOnce, inspectOnce } from './parsed-pki.js';
import { readOwnSecret, writeSecret, type SecretAccess } from './secrets.js';

export interface PublishedCredentials {
  readonly secretName: string;
  readonly clientNotAfter: Date;
}

/**
 * Phase 6: the tenant's bundle (ca.pem, cert.pem, key.pem and the docker.env/.fish/.ps1/.cmd scripts)
 * in a Secret of the bay's namespace, owned by the bay. The user's client certificate is issued once and
 * kept; the scripts follow the endpoint.
 */
export async function publishCredentials(access: SecretAccess, bay: Bay, pki: BayPki, endpoint: string, signal?: AbortSignal): Promise<PublishedCredentials> {
  const secretName = credentialsSecretName(bay.metadata.name!);
  const existing = readOwnSecret(access, bay, secretName);
  let certPem = existing?.[BUNDLE_FILES.cert];
  let keyPem = existing?.[BUNDLE_FILES.key];
  if (!certPem || !keyPem) {
    const issued = await issueClientCertificate(pki.ca, { identity: `bay-user:${bay.metadata.namespace}/${bay.metadata.name}`, validityMs: pki.validityMs });
    certPem = issued.certPem;
    keyPem = issued.keyPem;
  }
  const bundle = bundleOnce(pki.ca.certPem, certPem, keyPem, endpoint);
  await writeSecret(access, bay, secretName, 'Opaque', bundle, signal);
  return { secretName, clientNotAfter: inspectOnce(certPem).notAfter };
}
