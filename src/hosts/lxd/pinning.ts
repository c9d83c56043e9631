import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

import { certificateFingerprint } from '../fingerprint.js';

/** Raised from the TLS handshake when the host presents a certificate other than the pinned one. */
export class PinMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the host presented certificate sha256:${actual}, expected sha256:${expected}`);
    this.name = 'PinMismatchError';
  }
}

export interface PinnedAgentOptions {
  readonly serverFingerprint: string;
  readonly clientCertificate: string;
  readonly clientKey: string;
}

/**
 * An HTTPS agent that trusts exactly one server certificate, identified by its SHA-256 fingerprint.
 *
 * LXD's server certificate is self-signed and names only the host's hostname and loopback addresses,
 * so CA verification and hostname checks cannot work when connecting by a LAN address; the `lxc`
 * client pins the fingerprint instead, and so does this agent. Node only calls checkServerIdentity
 * after the chain verified, so the pin is checked in createConnection: the socket is handed to the
 * request only after the handshake completed and the fingerprint matched — not a byte of the request
 * is sent to an impostor.
 *
 * TLS 1.3 only, like LXD and Incus themselves. Session resumption is off: a resumed session does not
 * present the certificate again, and every connection must prove it.
 */
export class PinnedHttpsAgent extends https.Agent {
  private readonly pin: string;

  constructor(options: PinnedAgentOptions) {
    super({
      keepAlive: true,
      maxSockets: 8,
      maxCachedSessions: 0,
      minVersion: 'TLSv1.3',
      cert: options.clientCertificate,
      key: options.clientKey,
      // The chain cannot verify (self-signed); the pin below is the trust decision.
      rejectUnauthorized: false,
    });
    this.pin = options.serverFingerprint;
  }

  // The callback form lets the agent hand over the socket later (node:_http_agent createSocket).
  override createConnection(
    options: tls.ConnectionOptions,
    callback: (error: Error | null, socket: Duplex) => void,
  ): Duplex {
    const socket = tls.connect(options);
    const onError = (error: Error): void => callback(error, socket);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      const error = this.verifyPin(socket);
      if (error) {
        socket.destroy();
        callback(error, socket);
        return;
      }
      callback(null, socket);
    });
    // Returning nothing tells the agent to wait for the callback.
    return undefined as unknown as Duplex;
  }

  private verifyPin(socket: tls.TLSSocket): Error | undefined {
    const certificate = socket.getPeerCertificate();
    if (!certificate.raw) return new PinMismatchError(this.pin, 'none');
    const actual = certificateFingerprint(certificate.raw);
    return actual === this.pin ? undefined : new PinMismatchError(this.pin, actual);
  }
}
