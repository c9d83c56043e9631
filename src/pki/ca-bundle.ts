import { InvalidCertificateError } from './errors.js';
import { describeX509, parseCertificate } from './inspect.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text, each normalised to `\n` line ends with a final newline. */
export function splitPemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((match) => `${match[0].replace(/\r\n/g, '\n')}\n`);
}

/**
 * A trust bundle: the given CA certificates (each input may itself be a bundle) concatenated in
 * order, without duplicates (compared by DER, not text). During a CA rotation both sides trust
 * `[oldCa, newCa]`, so certificates of either CA verify; dockerd's `tlscacert` and Node's `ca` both
 * take such a bundle. Rejects non-CA certificates: a leaf in a trust store is always a mistake.
 */
export function caBundle(pems: readonly string[]): string {
  const seen = new Set<string>();
  const bundle: string[] = [];
  for (const pem of pems.flatMap(splitPemCertificates)) {
    const info = describeX509(parseCertificate(pem));
    if (!info.isCA) throw new InvalidCertificateError(`${info.subjectCommonName ?? 'a certificate'} in the CA bundle is not a CA`);
    if (seen.has(info.fingerprint256)) continue;
    seen.add(info.fingerprint256);
    bundle.push(pem);
  }
  if (bundle.length === 0) throw new InvalidCertificateError('the CA bundle holds no certificate');
  return bundle.join('');
}
