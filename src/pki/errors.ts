/**
 * Errors of the PKI layer. Messages name what was being done and with which certificate (subject,
 * serial), never a private key: callers put these messages into conditions, Events and logs.
 */

export type PkiErrorCode =
  | 'invalid-certificate'
  | 'invalid-key'
  | 'key-mismatch'
  | 'invalid-request'
  | 'invalid-duration'
  | 'invalid-bundle';

export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A PEM that does not hold a usable certificate, or one that cannot serve the purpose asked of it. */
export class InvalidCertificateError extends PkiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid-certificate', message, options);
  }
}

/** A private key that cannot be read or is of a kind marina cannot sign with. Never echoes the key. */
export class InvalidKeyError extends PkiError {
  constructor(message: string) {
    super('invalid-key', message);
  }
}

/** A private key that does not belong to the certificate it was stored with. */
export class KeyMismatchError extends PkiError {
  constructor(subject: string) {
    super('key-mismatch', `the private key does not match the certificate of ${subject}`);
  }
}

/** An issuing request that would produce a certificate nobody can use (no names, bad IP, ...). */
export class InvalidIssueRequestError extends PkiError {
  constructor(message: string) {
    super('invalid-request', message);
  }
}

/** A duration string that is not in Go's `time.ParseDuration` syntax, or out of range. */
export class InvalidDurationError extends PkiError {
  readonly input: string;

  constructor(input: string, reason: string) {
    super('invalid-duration', `invalid duration ${JSON.stringify(input)}: ${reason}`);
    this.input = input;
  }
}

/** Credentials-bundle input that cannot be written safely into a shell script (e.g. a newline in a path). */
export class InvalidBundleError extends PkiError {
  constructor(message: string) {
    super('invalid-bundle', message);
  }
}
