import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { TransportError } from './errors.js';

export type QueryValue = string | number | boolean | undefined;

export interface TransportRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly contentType?: string;
  /** Aborting it destroys the request and its response stream. */
  readonly signal?: AbortSignal;
}

/** Told of every request's outcome: the HTTP status code, or '<error>' when none came back. */
export type RequestObserver = (method: string, code: string) => void;

export interface TransportOptions {
  readonly userAgent?: string;
  readonly observe?: RequestObserver;
}

// Bearer tokens may rotate on disk (a pod's projected service-account token) or come from an exec
// plugin; re-reading them every minute keeps them fresh without a file read per request.
const AUTH_REFRESH_MS = 60_000;

/**
 * HTTPS to the apiserver through ONE keep-alive agent for the whole process. The generated API clients
 * of @kubernetes/client-node 1.x build a new agent (and so a new TLS connection) for every call; here
 * TLS material is read from the kubeconfig once and every request and watch shares the pool.
 */
export class Transport {
  private authHeaders: Record<string, string> = {};
  private authReadAt = 0;

  private constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly server: URL,
    private readonly agent: https.Agent,
    private readonly options: TransportOptions,
  ) {}

  static async fromKubeConfig(kubeConfig: KubeConfig, options: TransportOptions = {}): Promise<Transport> {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    if (cluster.proxyUrl) throw new Error('kubeconfig proxy-url is not supported by the marina runtime');
    const server = new URL(cluster.server);
    if (server.protocol !== 'https:') throw new Error(`the apiserver must be reached over https, not ${cluster.server}`);
    const tls = await readTlsOptions(kubeConfig);
    const agent = new https.Agent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      pfx: tls.pfx,
      passphrase: tls.passphrase,
      servername: tls.servername,
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    });
    return new Transport(kubeConfig, server, agent, options);
  }

  /** Resolves once the response headers arrived, whatever the status code; the caller reads the body. */
  async send(req: TransportRequest): Promise<IncomingMessage> {
    const headers = await this.headersFor(req);
    const url = this.urlFor(req);
    try {
      const res = await this.dispatch(url, req, headers);
      this.options.observe?.(req.method, String(res.statusCode ?? 0));
      return res;
    } catch (err) {
      this.options.observe?.(req.method, '<error>');
      throw new TransportError(req.method, req.path, err);
    }
  }

  /** Closes every pooled connection; in-flight watches end with an error. */
  close(): void {
    this.agent.destroy();
  }

  private dispatch(url: URL, req: TransportRequest, headers: Record<string, string>): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      if (req.signal?.aborted) return reject(req.signal.reason);
      const request = https.request(url, { method: req.method, agent: this.agent, headers }, resolve);
      const abort = (): void => void request.destroy(req.signal?.reason as Error);
      req.signal?.addEventListener('abort', abort, { once: true });
      request.once('close', () => req.signal?.removeEventListener('abort', abort));
      // Kept for the request's whole life: a socket error after the response started must not go
      // unhandled (the response stream reports it to whoever reads the body).
      request.on('error', reject);
      // An apiserver that accepted the connection but went quiet is found by the caller's signal
      // (request timeout or watch watchdog); TCP keep-alive finds peers that vanished.
      request.once('socket', (socket) => socket.setKeepAlive(true, 15_000));
      request.end(req.body === undefined ? undefined : JSON.stringify(req.body));
    });
  }

  private urlFor(req: TransportRequest): URL {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + req.path, this.server);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  private async headersFor(req: TransportRequest): Promise<Record<string, string>> {
    if (Date.now() - this.authReadAt > AUTH_REFRESH_MS) {
      this.authHeaders = (await readTlsOptions(this.kubeConfig)).headers;
      this.authReadAt = Date.now();
    }
    const headers: Record<string, string> = { ...this.authHeaders, accept: 'application/json' };
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
    return headers;
  }
}

interface TlsOptions {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly pfx?: string | Buffer;
  readonly passphrase?: string;
  readonly servername?: string;
  readonly rejectUnauthorized?: boolean;
  readonly headers: Record<string, string>;
}

/** Lets the client library resolve certificates, tokens and auth plugins; its throwaway agent is ignored. */
async function readTlsOptions(kubeConfig: KubeConfig): Promise<TlsOptions> {
  const opts: https.RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return {
    ca: opts.ca as string | Buffer | undefined,
    cert: opts.cert as string | Buffer | undefined,
    key: opts.key as string | Buffer | undefined,
    pfx: opts.pfx as string | Buffer | undefined,
    passphrase: opts.passphrase,
    servername: opts.servername,
    rejectUnauthorized: opts.rejectUnauthorized,
    headers,
  };
}
