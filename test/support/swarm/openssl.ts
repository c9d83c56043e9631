import { execFileSync } from 'node:child_process';

/**
 * The openssl CLI as an independent reader of what src/pki writes: the tests check certificates with
 * a parser other than the library that produced them.
 */

export function openssl(args: readonly string[], input: string): string {
  return execFileSync('openssl', [...args], { input, encoding: 'utf8' });
}

/** `serial=0123...` → the hex digits OpenSSL printed (a negative serial would print with a `-`). */
export function opensslSerial(certPem: string): string {
  return openssl(['x509', '-noout', '-serial'], certPem).trim().replace(/^serial=/, '');
}

export function opensslText(certPem: string): string {
  return openssl(['x509', '-noout', '-text'], certPem);
}

/** The value printed on the line after an extension's heading in `openssl x509 -text`. */
export function opensslExtension(certPem: string, heading: string): string | undefined {
  const lines = opensslText(certPem).split('\n');
  const at = lines.findIndex((line) => line.trim().startsWith(heading));
  return at < 0 ? undefined : lines[at + 1]?.trim();
}

/**
 * The serial of the certificate a dockerd serves, as `openssl s_client` (with a bundle's client
 * certificate, which dockerd requires) receives it; undefined when no handshake completes.
 */
export function servedSerial(address: string, port: number, bundleDir: string): string | undefined {
  try {
    const shown = execFileSync('sh', ['-c', `openssl s_client -connect ${address}:${port} -cert cert.pem -key key.pem -CAfile ca.pem </dev/null 2>/dev/null | openssl x509 -noout -serial`], {
      cwd: bundleDir,
      encoding: 'utf8',
      timeout: 15_000,
    });
    return shown.trim().replace(/^serial=/, '').toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}
