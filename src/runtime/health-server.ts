import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A named probe; `ok: false` answers 503 with the detail in the body. */
export interface HealthCheck {
  readonly name: string;
  readonly check: () => { readonly ok: boolean; readonly detail?: string };
}

export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly registry: Registry;
  readonly liveness: readonly HealthCheck[];
  readonly readiness: readonly HealthCheck[];
}

/** `/metrics`, `/healthz` and `/readyz` on one plain-HTTP listener. */
export class HealthServer {
  private constructor(private readonly server: Server) {}

  static async listen(opts: HealthServerOptions): Promise<HealthServer> {
    const server = createServer((req, res) => void route(opts, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
    return new HealthServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function route(opts: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  try {
    if (req.method !== 'GET') return reply(res, 405, 'method not allowed\n');
    if (path === '/metrics') return reply(res, 200, await opts.registry.metrics(), opts.registry.contentType);
    if (path === '/healthz' || path === '/livez') return probe(res, opts.liveness);
    if (path === '/readyz') return probe(res, opts.readiness);
    return reply(res, 404, 'not found\n');
  } catch (err) {
    return reply(res, 500, `${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function probe(res: ServerResponse, checks: readonly HealthCheck[]): void {
  const results = checks.map((c) => ({ name: c.name, ...c.check() }));
  const body = results.map((r) => `[${r.ok ? '+' : '-'}]${r.name} ${r.ok ? 'ok' : `failed: ${r.detail ?? ''}`}`).join('\n');
  const ok = results.every((r) => r.ok);
  reply(res, ok ? 200 : 503, `${body}\n${ok ? 'ok' : 'failed'}\n`);
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}
