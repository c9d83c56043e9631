import { once } from 'node:events';
import { request, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * Real TLS peers on loopback for the PKI and client tests: an HTTPS server that requires a client
 * certificate (as dockerd with `tlsverify` does) and a client that reports how the handshake ended.
 */

export interface TlsIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface MutualTlsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Answers every request with the CN of the client certificate it accepted. */
export async function startMutualTlsServer(options: { trust: string; identity: TlsIdentity }): Promise<MutualTlsServer> {
  const server: Server = createServer(
    {
      ca: options.trust,
      cert: options.identity.certPem,
      key: options.identity.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(peer.subject?.CN ?? '');
    },
  );
  // A refused handshake is the expected outcome of several tests; keep it out of the output.
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export type HandshakeOutcome = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly error: string };

/** One HTTPS GET with the given trust and (optional) client certificate; never throws. */
export function httpsGet(options: {
  port: number;
  trust: string;
  identity?: TlsIdentity;
  host?: string;
  path?: string;
}): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path ?? '/',
        ca: options.trust,
        ...(options.identity === undefined ? {} : { cert: options.identity.certPem, key: options.identity.keyPem }),
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ ok: true, body }));
        res.on('error', (error) => resolve({ ok: false, error: describe(error) }));
      },
    );
    req.on('error', (error) => resolve({ ok: false, error: describe(error) }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function describe(error: Error & { code?: string }): string {
  return error.code ?? error.message;
}
