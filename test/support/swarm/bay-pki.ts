import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../../src/pki/index.js';

/** A bay's worth of certificates for tests: its CA, one dockerd server certificate and the operator's client certificate. */
export interface BayPki {
  readonly ca: CertificateAuthority;
  readonly server: IssuedCertificate;
  readonly client: IssuedCertificate;
}

export const ONE_DAY_MS = 24 * 3600_000;

export async function createBayPki(options: {
  name: string;
  serverIps?: readonly string[];
  serverDnsNames?: readonly string[];
  includeLoopback?: boolean;
}): Promise<BayPki> {
  const ca = await createCertificateAuthority({ commonName: `${options.name} CA` });
  const [server, client] = await Promise.all([
    issueServerCertificate(ca, {
      commonName: options.name,
      ipAddresses: options.serverIps ?? [],
      dnsNames: options.serverDnsNames ?? [],
      includeLoopback: options.includeLoopback ?? true,
      validityMs: ONE_DAY_MS,
    }),
    issueClientCertificate(ca, { identity: 'marina-operator', validityMs: ONE_DAY_MS }),
  ]);
  return { ca, server, client };
}
