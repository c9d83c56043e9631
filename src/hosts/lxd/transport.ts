import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

import type { TlsHostCredentials } from '../credentials.js';
import { InvalidCredentialsError } from '../credentials.js';
import type { HostEndpoint } from '../endpoint.js';
import { formatEndpoint } from '../endpoint.js';
import type { HostErrorContext } from '../errors.js';
import { HostAuthError, HostTimeoutError, HostTlsError, HostUnreachableError } from '../errors.js';
import { PinMismatchError, PinnedHttpsAgent } from './pinning.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request body: small ones in memory, large ones (image uploads) streamed from a source. */
export type RequestBody =
  | { readonly kind: 'bytes'; readonly contentType: string; readonly data: Uint8Array }
  | {
      readonly kind: 'stream';
      readonly contentType: string;
      readonly contentLength: number;
      readonly open: () => Readable;
    };

export interface RawRequest {
  readonly method: HttpMethod;
  /** Path and query, e.g. `/1.0/instances?recursion=1`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Deadline for the whole exchange: connect, send, and read the full response. */
  readonly timeoutMs: number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Moves bytes to and from one host; knows nothing of LXD's envelopes. */
export interface Transport {
  readonly endpoint: string;
  readonly secure: boolean;
  send(request: RawRequest, context: HostErrorContext): Promise<RawResponse>;
  close(): void;
}

export function createTransport(endpoint: HostEndpoint, credentials: TlsHostCredentials | undefined): Transport {
  if (endpoint.kind === 'unix') {
    return new NodeHttpTransport(formatEndpoint(endpoint), false, http.request, new http.Agent({ keepAlive: true }), {
      socketPath: endpoint.socketPath,
    });
  }
  if (credentials === undefined) {
    throw new InvalidCredentialsError(formatEndpoint(endpoint), 'an https endpoint needs a client certificate and the server pin');
  }
  return new NodeHttpTransport(formatEndpoint(endpoint), true, https.request, new PinnedHttpsAgent(credentials), {
    host: endpoint.hostname,
    port: endpoint.port,
  });
}

type RequestFunction = (options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) => http.ClientRequest;

class DeadlineExceeded extends Error {}

class NodeHttpTransport implements Transport {
  constructor(
    readonly endpoint: string,
    readonly secure: boolean,
    private readonly request: RequestFunction,
    private readonly agent: http.Agent,
    private readonly target: Pick<http.RequestOptions, 'socketPath' | 'host' | 'port'>,
  ) {}

  send(request: RawRequest, context: HostErrorContext): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      // Once the deadline fired, whatever error the torn-down exchange reports is a timeout.
      const fail = (error: unknown): void =>
        settle(() => reject(this.toHostError(timedOut ? new DeadlineExceeded() : error, request.timeoutMs, context)));

      const req = this.request(this.requestOptions(request), (res) => {
        readBody(res).then(
          (body) => settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body })),
          fail,
        );
      });
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new DeadlineExceeded());
      }, request.timeoutMs);
      req.on('error', fail);
      writeBody(req, request.body).catch((error: unknown) => req.destroy(error as Error));
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private requestOptions(request: RawRequest): http.RequestOptions {
    const headers: Record<string, string> = { ...request.headers };
    if (request.body) {
      headers['Content-Type'] = request.body.contentType;
      headers['Content-Length'] = String(
        request.body.kind === 'bytes' ? request.body.data.byteLength : request.body.contentLength,
      );
    }
    // Over the unix socket the Host header is arbitrary; LXD's own client sends "unix.socket".
    if (!this.secure) headers.Host = 'unix.socket';
    return { ...this.target, agent: this.agent, method: request.method, path: request.path, headers };
  }

  private toHostError(error: unknown, timeoutMs: number, context: HostErrorContext): Error {
    if (error instanceof DeadlineExceeded) return new HostTimeoutError(context, timeoutMs);
    if (error instanceof PinMismatchError) return new HostTlsError(context, error.message, { cause: error });
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'EACCES') {
      return new HostAuthError(context, `no permission to use ${this.endpoint}`, { cause: error });
    }
    if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /\b(SSL|TLS|alert)\b/i.test(message)) {
      return new HostTlsError(context, `TLS handshake with ${this.endpoint} failed: ${message}`, { cause: error });
    }
    return new HostUnreachableError(context, `${this.endpoint}: ${message}`, { cause: error });
  }
}

function readBody(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('response aborted')));
  });
}

async function writeBody(req: http.ClientRequest, body: RequestBody | undefined): Promise<void> {
  if (body === undefined) {
    req.end();
  } else if (body.kind === 'bytes') {
    req.end(body.data);
  } else {
    await pipeline(body.open(), req);
  }
}
