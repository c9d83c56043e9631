// The PKI layer's public surface: a bay's CA, leaf certificates for dockerd and its clients, trust
// bundles, the user's credentials bundle and the renewal policy. Controllers import from here.
export { createCertificateAuthority, loadCertificateAuthority, DEFAULT_CA_VALIDITY_MS } from './authority.js';
export type { CertificateAuthority, CertificateAuthorityRequest } from './authority.js';
export { crossSignAuthority } from './cross-sign.js';
export { issueServerCertificate, issueClientCertificate } from './issue.js';
export type { IssuedCertificate, CertificateUsage, ServerCertificateRequest, ClientCertificateRequest } from './issue.js';
export { inspectCertificate, isIssuedBy } from './inspect.js';
export type { CertificateInfo, SubjectAltNames } from './inspect.js';
export { caBundle, splitPemCertificates } from './ca-bundle.js';
export {
  credentialsBundle,
  withCertDir,
  environmentScripts,
  dockerHostUrl,
  BUNDLE_FILES,
  CERT_DIR_PLACEHOLDER,
  DOCKER_TLS_PORT,
} from './credentials-bundle.js';
export type { CredentialsBundleInput, DockerEndpoint, EnvironmentSettings } from './credentials-bundle.js';
export { parseDuration } from './duration.js';
export { warmRsaKeys } from './keys.js';
export { parseTlsPolicy, renewalDue, renewalTime, timeUntilRenewal, caRenewalDue } from './renewal.js';
export type { TlsPolicy } from './renewal.js';
export { CLOCK_SKEW_ALLOWANCE_MS } from './validity.js';
export * from './errors.js';
