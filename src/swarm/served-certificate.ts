import { connect } from 'node:tls';
import { DOCKER_TLS_PORT, type DockerClientOptions } from './client.js';
import { SwarmError } from './errors.js';

/** The same endpoint and TLS material as a Docker client's (dockerd requires a client certificate). */
export type ServedCertificateRequest = Pick<
  DockerClientOptions,
  'address' | 'port' | 'caPems' | 'certPem' | 'keyPem' | 'timeoutMs'
>;

/**
 * The serial (lowercase hex, as OpenSSL prints it) of the certificate a node's dockerd serves, read
 * by a verified TLS handshake: after a restart for new certificates, the proof that dockerd serves
 * the new one (the Docker API does not say which certificate it loaded).
 */
export function readServedCertificate(request: ServedCertificateRequest): Promise<string> {
  const endpoint = `${request.address}:${request.port ?? DOCKER_TLS_PORT}`;
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: request.address,
      port: request.port ?? DOCKER_TLS_PORT,
      ca: [...request.caPems],
      cert: request.certPem,
      key: request.keyPem,
      // The certificate names the node's IP address; there is no host name to check against.
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1.2',
    });
    const fail = (code: 'tls' | 'unreachable' | 'timeout', detail: string): void => {
      socket.destroy();
      reject(new SwarmError(code, { address: endpoint, operation: 'read-served-certificate' }, detail));
    };
    socket.setTimeout(request.timeoutMs ?? 10_000, () => fail('timeout', 'no TLS handshake in time'));
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber?.toLowerCase();
      socket.end();
      if (serial) resolve(serial);
      else
        reject(
          new SwarmError(
            'tls',
            { address: endpoint, operation: 'read-served-certificate' },
            'the server showed no certificate',
          ),
        );
    });
    // Only the error code: OpenSSL messages are safe, but codes are what callers match on.
    socket.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code?.startsWith('ERR_SSL') || err.code?.includes('CERT') ? 'tls' : 'unreachable',
        err.code ?? err.message,
      ),
    );
  });
}
