import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { InvalidKeyError } from './errors.js';
import { randomPositiveSerial } from './serial.js';
import type { ValidityWindow } from './validity.js';

/**
 * The one place that drives node-forge. forge builds the certificate; node:crypto signs it (forge's
 * own RSA signing is pure JavaScript, about a tenth of a second of CPU per certificate, which adds
 * up to minutes for a thousand bays); keys come from node:crypto and stay PKCS#8 PEM strings
 * everywhere else. Two forge defaults would be wrong for Docker and are avoided here: `sign()` uses
 * SHA-1 unless told otherwise (Go refuses SHA-1), and `authorityKeyIdentifier: {keyIdentifier: true}`
 * would describe the certificate's own key.
 */

/** forge's extension objects (`{name: 'basicConstraints', cA: true, ...}`); forge types them as any. */
export type ForgeExtension = Record<string, unknown> & { readonly name: string };

export interface Signer {
  /** The issuer's subject, copied into the new certificate's issuer field. */
  readonly subject: forge.pki.CertificateField[];
  /** The issuer's subject key identifier (raw bytes as a forge binary string), for the AKI extension. */
  readonly keyIdentifier: string;
  readonly privateKey: KeyObject;
}

export interface CertificateTemplate {
  readonly subject: forge.pki.CertificateField[];
  readonly publicKeyPem: string;
  readonly validity: ValidityWindow;
  readonly extensions: readonly ForgeExtension[];
}

/** Signs `template` with `signer`, or self-signs it with `selfKeyPem` when signer is 'self'. */
export function signCertificate(template: CertificateTemplate, signer: Signer | { readonly selfKeyPem: string }): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(template.publicKeyPem);
  cert.serialNumber = randomPositiveSerial();
  cert.validity.notBefore = template.validity.notBefore;
  cert.validity.notAfter = template.validity.notAfter;
  cert.setSubject(template.subject);
  const selfSigned = 'selfKeyPem' in signer;
  cert.setIssuer(selfSigned ? template.subject : signer.subject);
  const authorityKeyId = selfSigned ? [] : [{ name: 'authorityKeyIdentifier', keyIdentifier: signer.keyIdentifier }];
  // publicKey is set above, so forge computes the subjectKeyIdentifier from the right key.
  cert.setExtensions([...template.extensions, { name: 'subjectKeyIdentifier' }, ...authorityKeyId]);
  const signingKey = selfSigned ? readRsaPrivateKey(signer.selfKeyPem, 'the new key') : signer.privateKey;
  signWithSha256(cert, signingKey);
  // forge writes CRLF; files pushed to nodes and bundles read better (and compare equal) with LF.
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** forge exports this (lib/x509.js) but its type declarations do not. */
interface ForgeTbs {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

/** What forge's `cert.sign(key, sha256)` does, with the RSA signature made by node:crypto. */
function signWithSha256(cert: forge.pki.Certificate, key: KeyObject): void {
  const oid = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.md = forge.md.sha256.create();
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  cert.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, key).toString('binary');
}

/** The signing half of a CA: its subject, key identifier and private key, parsed once per issue. */
export function signerFor(caCertPem: string, caKeyPem: string): Signer {
  const caCert = forge.pki.certificateFromPem(caCertPem);
  return {
    subject: caCert.subject.attributes,
    keyIdentifier: subjectKeyIdentifierOf(caCert),
    privateKey: readRsaPrivateKey(caKeyPem, 'the CA key'),
  };
}

export function commonNameSubject(commonName: string, organizations: readonly string[] = []): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: commonName },
    ...organizations.map((organization) => ({ name: 'organizationName', value: organization })),
  ];
}

/**
 * The CA's SKI as written in its certificate (a CA made elsewhere may use another method than
 * SHA-1 of the key); forge's own computation when the extension is absent.
 */
function subjectKeyIdentifierOf(caCert: forge.pki.Certificate): string {
  const extension = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return extension?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(extension.subjectKeyIdentifier)
    : caCert.generateSubjectKeyIdentifier().getBytes();
}

/** PKCS#8 or PKCS#1 RSA keys. The parser's error is replaced: the message must not echo key material. */
function readRsaPrivateKey(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new InvalidKeyError(`${what} is not a PEM RSA private key`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new InvalidKeyError(`${what} is not a PEM RSA private key`);
  return key;
}
