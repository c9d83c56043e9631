import type { CertificateAuthority } from './authority.js';
import { InvalidIssueRequestError } from './errors.js';
import { commonNameSubject, signCertificate, signerFor, type ForgeExtension } from './forge-sign.js';
import { inspectCertificate } from './inspect.js';
import { generateRsaKeyPair } from './keys.js';
import { LOOPBACK_NAMES, checkDnsNames, checkIpAddresses } from './names.js';
import { validityWindow } from './validity.js';

export type CertificateUsage = 'server' | 'client';

/** A leaf certificate with its fresh private key (PKCS#8 PEM) and the facts status needs. */
export interface IssuedCertificate {
  readonly usage: CertificateUsage;
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  /** As written in the certificate (whole seconds; possibly cut at the CA's own expiry). */
  readonly notAfter: Date;
  readonly serial: string;
  readonly fingerprint256: string;
}

export interface ServerCertificateRequest {
  /** Informational only (clients check SANs); the node's hostname reads best in `openssl x509 -text`. */
  readonly commonName: string;
  /** Every address clients dial: the node's address at least. */
  readonly ipAddresses: readonly string[];
  /** e.g. the node's hostname. */
  readonly dnsNames?: readonly string[];
  /** Adds 127.0.0.1 and localhost, for clients inside the node. Default true. */
  readonly includeLoopback?: boolean;
  readonly validityMs: number;
  readonly now?: Date;
}

export interface ClientCertificateRequest {
  /** The CN dockerd's authorization plugins see, e.g. `marina-operator` or `bay-user`. */
  readonly identity: string;
  readonly organizations?: readonly string[];
  readonly validityMs: number;
  readonly now?: Date;
}

/** A dockerd server certificate: serverAuth, IP and DNS SANs. */
export async function issueServerCertificate(ca: CertificateAuthority, request: ServerCertificateRequest): Promise<IssuedCertificate> {
  const loopback = request.includeLoopback ?? true;
  const ipAddresses = checkIpAddresses([...request.ipAddresses, ...(loopback ? LOOPBACK_NAMES.ipAddresses : [])]);
  const dnsNames = checkDnsNames([...(request.dnsNames ?? []), ...(loopback ? LOOPBACK_NAMES.dnsNames : [])]);
  if (ipAddresses.length + dnsNames.length === 0) {
    throw new InvalidIssueRequestError(`server certificate ${request.commonName} needs at least one IP address or DNS name`);
  }
  const altNames = [
    ...dnsNames.map((value) => ({ type: 2, value })),
    ...ipAddresses.map((ip) => ({ type: 7, ip })),
  ];
  return issueLeaf(ca, 'server', request, commonNameSubject(request.commonName), [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
}

/** A client certificate for the Docker API: clientAuth, CN = identity. */
export async function issueClientCertificate(ca: CertificateAuthority, request: ClientCertificateRequest): Promise<IssuedCertificate> {
  if (request.identity.trim() === '') throw new InvalidIssueRequestError('a client certificate needs an identity');
  return issueLeaf(ca, 'client', request, commonNameSubject(request.identity, request.organizations), [
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}

async function issueLeaf(
  ca: CertificateAuthority,
  usage: CertificateUsage,
  request: { readonly validityMs: number; readonly now?: Date },
  subject: ReturnType<typeof commonNameSubject>,
  extensions: readonly ForgeExtension[],
): Promise<IssuedCertificate> {
  // The window is checked before the key is generated: an expired CA fails fast.
  const validity = validityWindow(request.now ?? new Date(), request.validityMs, ca.notAfter);
  const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair();
  const certPem = signCertificate(
    { subject, publicKeyPem, validity, extensions: [{ name: 'basicConstraints', cA: false, critical: true }, ...extensions] },
    signerFor(ca.certPem, ca.keyPem),
  );
  const info = inspectCertificate(certPem);
  return {
    usage,
    certPem,
    keyPem: privateKeyPem,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    serial: info.serial,
    fingerprint256: info.fingerprint256,
  };
}
