import { X509Certificate } from 'node:crypto';
import { InvalidCertificateError } from './errors.js';

/** What the operator needs to know about a certificate, read with OpenSSL (node:crypto), not node-forge. */
export interface CertificateInfo {
  readonly subjectCommonName: string | undefined;
  readonly issuerCommonName: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex, as OpenSSL prints it (no sign: marina only issues positive serials). */
  readonly serial: string;
  readonly sans: SubjectAltNames;
  readonly isCA: boolean;
  /** Lowercase hex SHA-256 of the DER, no colons (the form LXD and the hosts layer use). */
  readonly fingerprint256: string;
}

export interface SubjectAltNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

export function inspectCertificate(pem: string): CertificateInfo {
  return describeX509(parseCertificate(pem));
}

/** True when `ca` issued `certPem`: names chain and the signature verifies with the CA's public key. */
export function isIssuedBy(certPem: string, caPem: string): boolean {
  const cert = parseCertificate(certPem);
  const ca = parseCertificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** Parses one PEM certificate (the first, when given a bundle); throws InvalidCertificateError. */
export function parseCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new InvalidCertificateError('not a PEM X.509 certificate', { cause: error });
  }
}

export function describeX509(x509: X509Certificate): CertificateInfo {
  return {
    subjectCommonName: commonNameOf(x509.subject),
    issuerCommonName: commonNameOf(x509.issuer),
    notBefore: parseOpenSslDate(x509.validFrom),
    notAfter: parseOpenSslDate(x509.validTo),
    serial: x509.serialNumber.toLowerCase(),
    sans: parseSubjectAltName(x509.subjectAltName),
    isCA: x509.ca,
    fingerprint256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** Node prints distinguished names one attribute per line: `CN=...\nO=...`. */
function commonNameOf(distinguishedName: string): string | undefined {
  const line = distinguishedName.split('\n').find((attribute) => attribute.startsWith('CN='));
  return line?.slice('CN='.length);
}

/** OpenSSL's `Nov 21 08:00:00 2026 GMT`; node 20 has no Date-valued accessor yet. */
function parseOpenSslDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new InvalidCertificateError(`unreadable validity date ${JSON.stringify(text)}`);
  return date;
}

/** `DNS:node-1, IP Address:10.0.0.5` → names by kind. Other kinds (URI, email) are not used by marina. */
export function parseSubjectAltName(text: string | undefined): SubjectAltNames {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of (text ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) dnsNames.push(entry.slice('DNS:'.length));
    else if (entry.startsWith('IP Address:')) ipAddresses.push(canonicalIp(entry.slice('IP Address:'.length)));
  }
  return { dnsNames, ipAddresses };
}

/** OpenSSL prints IPv6 uncompressed and upper case (`FD00:0:0:0:0:0:0:5`); compare in the usual `fd00::5` form. */
function canonicalIp(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}
