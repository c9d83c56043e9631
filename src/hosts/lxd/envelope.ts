import type { HostErrorContext } from '../errors.js';
import { HostApiError, HostAuthError } from '../errors.js';
import type { AsyncEnvelope, Envelope, ErrorEnvelope, SyncEnvelope } from './api-types.js';
import type { RawResponse } from './transport.js';

/**
 * Every LXD/Incus answer is an envelope: `sync` (metadata is the result), `async` (an operation was
 * started) or `error`. The HTTP status is not enough on its own: `/wait` answers 200 with an error
 * envelope on LXD, so the envelope type decides.
 */
export function parseEnvelope(response: RawResponse, context: HostErrorContext): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new HostApiError(context, response.status, 'the host answered with something other than JSON', {
      cause: error,
    });
  }
  if (!isEnvelope(parsed)) {
    throw new HostApiError(context, response.status, 'the host answered with JSON that is not an API envelope');
  }
  return parsed;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'sync' || type === 'async' || type === 'error';
}

export function isErrorEnvelope(envelope: Envelope): envelope is ErrorEnvelope {
  return envelope.type === 'error';
}

/** The error an error envelope stands for; 403 means the caller is not trusted. */
export function envelopeError(envelope: ErrorEnvelope, context: HostErrorContext, secure: boolean): Error {
  const status = envelope.error_code;
  if (status === 403) {
    const why = secure
      ? "the host does not trust marina's client certificate"
      : 'the socket user may not use this API';
    return new HostAuthError(context, `${why} (${envelope.error})`);
  }
  return new HostApiError(context, status, envelope.error);
}

export function expectSync<T>(envelope: Envelope, context: HostErrorContext, secure: boolean): T {
  if (isErrorEnvelope(envelope)) throw envelopeError(envelope, context, secure);
  if (envelope.type !== 'sync') {
    throw new HostApiError(context, envelope.status_code, 'expected a synchronous answer, got an operation');
  }
  return (envelope as SyncEnvelope<T>).metadata;
}

export function expectAsync(envelope: Envelope, context: HostErrorContext, secure: boolean): AsyncEnvelope {
  if (isErrorEnvelope(envelope)) throw envelopeError(envelope, context, secure);
  if (envelope.type !== 'async') {
    throw new HostApiError(context, envelope.status_code, 'expected an operation, got a synchronous answer');
  }
  return envelope;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof HostApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof HostApiError && error.status === 409;
}
