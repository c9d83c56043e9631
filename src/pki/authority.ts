import { createPrivateKey, type KeyObject } from 'node:crypto';
import { InvalidCertificateError, InvalidKeyError, KeyMismatchError } from './errors.js';
import { commonNameSubject, signCertificate } from './forge-sign.js';
import { describeX509, parseCertificate } from './inspect.js';
import { generateRsaKeyPair } from './keys.js';
import { validityWindow } from './validity.js';

declare const verifiedAuthority: unique symbol;

/**
 * A bay's certificate authority: certificate and PKCS#8 private key, checked to belong together and
 * to be a CA. Only createCertificateAuthority and loadCertificateAuthority make one, so a pair read
 * from a Secret cannot reach the issuing functions unchecked.
 */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
  readonly commonName: string;
  readonly notAfter: Date;
  readonly fingerprint256: string;
  readonly [verifiedAuthority]: true;
}

/** Three years: long enough to outlive many leaf rotations, short enough not to become forever. */
export const DEFAULT_CA_VALIDITY_MS = 3 * 365 * 24 * 3600_000;

export interface CertificateAuthorityRequest {
  /** e.g. `marina bay team-a/web`; shows up as the issuer of every certificate of the bay. */
  readonly commonName: string;
  /**
   * Tells a rotated CA apart from its predecessor of the same common name: clients and dockerd
   * build chains by subject, and two CAs of one subject in a trust bundle confuse them.
   */
  readonly organization?: string;
  readonly validityMs?: number;
  readonly now?: Date;
}

export async function createCertificateAuthority(request: CertificateAuthorityRequest): Promise<CertificateAuthority> {
  const { privateKeyPem, publicKeyPem } = await generateRsaKeyPair();
  const certPem = signCertificate(
    {
      subject: commonNameSubject(request.commonName, request.organization ? [request.organization] : []),
      publicKeyPem,
      validity: validityWindow(request.now ?? new Date(), request.validityMs ?? DEFAULT_CA_VALIDITY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
    { selfKeyPem: privateKeyPem },
  );
  return loadCertificateAuthority({ certPem, keyPem: privateKeyPem });
}

/**
 * Checks a stored CA pair: the certificate is a CA, the key is an RSA key (node-forge signs only with
 * RSA) and it is the certificate's key. An expired CA loads (so that rotation can see it) but cannot
 * issue.
 */
export function loadCertificateAuthority(pair: { readonly certPem: string; readonly keyPem: string }): CertificateAuthority {
  const x509 = parseCertificate(pair.certPem);
  const info = describeX509(x509);
  const commonName = info.subjectCommonName ?? x509.subject;
  if (!info.isCA) throw new InvalidCertificateError(`${commonName} is not a CA certificate (basicConstraints cA is false)`);
  const key = readPrivateKey(pair.keyPem, commonName);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidKeyError(`the key of CA ${commonName} is ${key.asymmetricKeyType ?? 'unknown'}, marina signs with RSA only`);
  }
  if (!x509.checkPrivateKey(key)) throw new KeyMismatchError(`CA ${commonName}`);
  return {
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    commonName,
    notAfter: info.notAfter,
    fingerprint256: info.fingerprint256,
  } as CertificateAuthority;
}

function readPrivateKey(pem: string, owner: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // The OpenSSL error is dropped on purpose: it can quote the PEM it failed on.
    throw new InvalidKeyError(`the key of CA ${owner} is not a readable PEM private key`);
  }
}
