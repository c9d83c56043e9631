import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * forward: bytes flow both ways. freeze: connections stay open but no byte moves (a half-dead peer).
 * refuse: new connections are closed at once (the apiserver is unreachable).
 */
export type ProxyMode = 'forward' | 'freeze' | 'refuse';

/**
 * A loopback TCP relay in front of the REAL kube-apiserver, so that a test can break the network
 * between a client and the apiserver without faking either. TLS passes through untouched.
 */
export class TcpProxy {
  private mode: ProxyMode = 'forward';
  private readonly pairs = new Set<readonly [Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, { host: url.hostname, port: Number(url.port) });
  }

  /** The same URL as the target's, pointing at the proxy. */
  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Resets every open connection, like a network failure mid-stream. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === 'refuse') this.cut();
    for (const [client, upstream] of this.pairs) {
      if (mode === 'freeze') {
        client.pause();
        upstream.pause();
      } else {
        client.resume();
        upstream.resume();
      }
    }
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'refuse') return void client.resetAndDestroy();
    const upstream = connect(this.target.port, this.target.host);
    const pair = [client, upstream] as const;
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.mode === 'freeze') {
      client.pause();
      upstream.pause();
    }
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', close);
    upstream.once('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
