import { SwarmError, type SwarmErrorCode, type SwarmErrorContext } from './errors.js';

/**
 * Turns what dockerode rejects with into a SwarmError: HTTP errors from docker-modem carry
 * `statusCode` and dockerd's `{message}`; transport errors carry Node's `code`.
 */
export function toSwarmError(error: unknown, context: SwarmErrorContext): SwarmError {
  if (error instanceof SwarmError) return error;
  const { code, statusCode, detail } = classify(error);
  return new SwarmError(code, context, detail, { cause: error, ...(statusCode === undefined ? {} : { statusCode }) });
}

interface Classified {
  readonly code: SwarmErrorCode;
  readonly statusCode?: number;
  readonly detail: string;
}

function classify(error: unknown): Classified {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as DockerodeErrorShape;
  if (typeof shape.statusCode === 'number') return classifyAnswer(shape.statusCode, dockerMessage(shape));
  // Node's system and TLS errors have a string code; a DOMException (abort, timeout) a numeric one and a name.
  const code = typeof shape.code === 'string' ? shape.code : (shape.name ?? '');
  const detail = code === '' ? String(shape.message ?? error) : `${code}: ${shape.message ?? ''}`.trim();
  if (TRANSPORT_CODES.has(code)) return { code: 'unreachable', detail: withResetHint(code, detail) };
  if (TIMEOUT_CODES.has(code)) return { code: 'timeout', detail };
  if (isTlsCode(code)) return { code: 'tls', detail };
  return { code: 'unreachable', detail };
}

interface DockerodeErrorShape {
  readonly statusCode?: unknown;
  readonly json?: { readonly message?: unknown } | null;
  readonly code?: unknown;
  readonly name?: string;
  readonly message?: string;
}

function classifyAnswer(statusCode: number, message: string): Classified {
  if (/not a swarm manager|swarm does not have a leader|is not a manager/i.test(message)) return { code: 'not-manager', statusCode, detail: message };
  if (/not part of a swarm/i.test(message)) return { code: 'not-in-swarm', statusCode, detail: message };
  if (/update out of sequence/i.test(message)) return { code: 'conflict', statusCode, detail: message };
  if (/is not down and can't be removed|must be demoted/i.test(message)) return { code: 'invalid-state', statusCode, detail: message };
  return { code: 'api', statusCode, detail: `HTTP ${statusCode}: ${message}` };
}

/** dockerd's own words (`{"message": ...}`) rather than docker-modem's "(HTTP code 503) unexpected - ..." wrapper. */
function dockerMessage(shape: DockerodeErrorShape): string {
  const fromJson = shape.json?.message;
  return (typeof fromJson === 'string' ? fromJson : (shape.message ?? '')).trim();
}

const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'TimeoutError', 'AbortError', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT']);

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);
}

/**
 * With TLS 1.3 a dockerd that rejects the client certificate only closes the connection after the
 * handshake, which the client sees as a reset: say so, since it is the likely cause when it persists.
 */
function withResetHint(code: string, detail: string): string {
  return code === 'ECONNRESET' ? `${detail} (dockerd restarting, or refusing marina's client certificate)` : detail;
}
