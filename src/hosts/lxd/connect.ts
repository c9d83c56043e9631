import type { TlsHostCredentials } from '../credentials.js';
import { formatEndpoint, parseEndpoint } from '../endpoint.js';
import { LxdClient } from './client.js';
import { createTransport } from './transport.js';

export interface LxdClientOptions {
  /** The host's name for errors; defaults to the endpoint. */
  readonly name?: string;
  /** Deadline of each HTTP exchange. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * A client for `unix:///path/to/unix.socket` (no credentials; the socket's file permissions are the
 * authentication) or `https://host:port` (client certificate + pinned server fingerprint, TLS 1.3).
 */
export function createLxdClient(
  endpoint: string,
  credentials: TlsHostCredentials | undefined,
  options: LxdClientOptions = {},
): LxdClient {
  const parsed = parseEndpoint(endpoint);
  const transport = createTransport(parsed, parsed.kind === 'https' ? credentials : undefined);
  const trustToken = parsed.kind === 'https' ? credentials?.trustToken : undefined;
  return new LxdClient(transport, options.name ?? formatEndpoint(parsed), options.requestTimeoutMs, trustToken);
}
