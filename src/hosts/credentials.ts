import { certificateFingerprint, normalizeFingerprint } from './fingerprint.js';
import { decodeTrustToken, InvalidTrustTokenError } from './lxd/trust.js';

/**
 * What marina needs to talk to a remote host over HTTPS: its own client certificate (trusted by the
 * host) and the pin of the host's server certificate. Hosts reached over their unix socket need none.
 */
export interface TlsHostCredentials {
  /** PEM client certificate, trusted by the host (`lxc config trust add`). */
  readonly clientCertificate: string;
  /** PEM private key of the client certificate. Never logged, never put in an error. */
  readonly clientKey: string;
  /** Lowercase hex SHA-256 of the host's server certificate (DER), as `lxc info` prints it. */
  readonly serverFingerprint: string;
  /**
   * A trust token the host issued (`incus config trust add marina`): redeemed once, over a connection
   * pinned to the fingerprint it carries, to make the host trust clientCertificate. Never logged.
   */
  readonly trustToken?: string;
}

/**
 * The Secret a HostAggregate's `credentialsSecretRef` points to (type kubernetes.io/tls works):
 *
 *   tls.crt            marina's client certificate (PEM)
 *   tls.key            its private key (PEM)
 *   serverFingerprint  sha256 of the host's certificate, hex (colons allowed)   } at least one;
 *   server.crt         the host's certificate (PEM), pinned by its fingerprint } all given
 *   trustToken         a trust token of the host (it carries the fingerprint)  } must agree
 */
export const SECRET_KEYS = {
  clientCertificate: 'tls.crt',
  clientKey: 'tls.key',
  serverFingerprint: 'serverFingerprint',
  serverCertificate: 'server.crt',
  trustToken: 'trustToken',
} as const;

export class InvalidCredentialsError extends Error {
  constructor(source: string, reason: string, options?: { cause?: unknown }) {
    super(`host credentials in ${source}: ${reason}`, options);
    this.name = 'InvalidCredentialsError';
  }
}

/** The `data` of a Secret as the Kubernetes API returns it: base64 values. */
export type SecretData = Readonly<Record<string, string | undefined>>;

/** `source` names the Secret (namespace/name) in error messages. */
export function credentialsFromSecretData(data: SecretData, source: string): TlsHostCredentials {
  const decoded = (key: string): string | undefined => {
    const value = data[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
  return credentialsFromPem(
    {
      clientCertificate: decoded(SECRET_KEYS.clientCertificate),
      clientKey: decoded(SECRET_KEYS.clientKey),
      serverFingerprint: decoded(SECRET_KEYS.serverFingerprint),
      serverCertificate: decoded(SECRET_KEYS.serverCertificate),
      trustToken: decoded(SECRET_KEYS.trustToken),
    },
    source,
  );
}

export interface CredentialParts {
  readonly clientCertificate: string | undefined;
  readonly clientKey: string | undefined;
  readonly serverFingerprint?: string | undefined;
  readonly serverCertificate?: string | undefined;
  readonly trustToken?: string | undefined;
}

export function credentialsFromPem(parts: CredentialParts, source: string): TlsHostCredentials {
  const { clientCertificate, clientKey } = parts;
  if (!clientCertificate?.includes('BEGIN CERTIFICATE')) {
    throw new InvalidCredentialsError(source, `${SECRET_KEYS.clientCertificate} must hold a PEM certificate`);
  }
  if (!clientKey?.includes('PRIVATE KEY')) {
    throw new InvalidCredentialsError(source, `${SECRET_KEYS.clientKey} must hold a PEM private key`);
  }
  const trustToken = parts.trustToken?.trim() || undefined;
  return { clientCertificate, clientKey, serverFingerprint: serverPin(parts, source), ...(trustToken ? { trustToken } : {}) };
}

function serverPin(parts: CredentialParts, source: string): string {
  const fromFingerprint =
    parts.serverFingerprint === undefined ? undefined : normalizeFingerprint(parts.serverFingerprint);
  if (parts.serverFingerprint !== undefined && fromFingerprint === undefined) {
    throw new InvalidCredentialsError(source, `${SECRET_KEYS.serverFingerprint} is not a SHA-256 fingerprint`);
  }
  const fromCertificate =
    parts.serverCertificate === undefined ? undefined : fingerprintOf(parts.serverCertificate, source);
  const fromToken = parts.trustToken?.trim() ? tokenFingerprintOf(parts.trustToken, source) : undefined;
  const pins = [
    [SECRET_KEYS.serverFingerprint, fromFingerprint],
    [SECRET_KEYS.serverCertificate, fromCertificate],
    [SECRET_KEYS.trustToken, fromToken],
  ].filter((pin): pin is [string, string] => pin[1] !== undefined);
  const disagreeing = pins.find(([, pin]) => pin !== pins[0]![1]);
  if (disagreeing) {
    throw new InvalidCredentialsError(source, `${pins[0]![0]} and ${disagreeing[0]} name different host certificates`);
  }
  if (pins.length === 0) {
    throw new InvalidCredentialsError(
      source,
      `${SECRET_KEYS.serverFingerprint}, ${SECRET_KEYS.serverCertificate} or ${SECRET_KEYS.trustToken} ` +
        'is required to pin the host',
    );
  }
  return pins[0]![1];
}

function tokenFingerprintOf(token: string, source: string): string {
  try {
    return decodeTrustToken(token).fingerprint;
  } catch (error) {
    if (!(error instanceof InvalidTrustTokenError)) throw error;
    // The token's own text is a secret: the message says what is wrong with it, never what it is.
    throw new InvalidCredentialsError(source, `${SECRET_KEYS.trustToken}: ${error.message}`);
  }
}

function fingerprintOf(pem: string, source: string): string {
  try {
    return certificateFingerprint(pem);
  } catch (error) {
    throw new InvalidCredentialsError(source, `${SECRET_KEYS.serverCertificate} is not a PEM certificate`, {
      cause: error,
    });
  }
}
