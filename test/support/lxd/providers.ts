import { credentialsFromPem } from '../../../src/hosts/credentials.js';
import { createHostProvider } from '../../../src/hosts/factory.js';
import type { HostProvider } from '../../../src/hosts/provider.js';
import type { ClientIdentity } from './certificates.js';
import type { LxdTestHost } from './host.js';

/** The two ways marina reaches a host; e2e suites run the same specification over both. */
export type TransportName = 'unix socket' | 'https';
export const TRANSPORTS: readonly TransportName[] = ['unix socket', 'https'];

export function providerOver(
  transport: TransportName,
  host: LxdTestHost,
  identity: ClientIdentity,
): HostProvider {
  const options = { name: `e2e-${transport === 'https' ? 'https' : 'unix'}`, kernelModules: host.kernelModules };
  if (transport === 'unix socket') return createHostProvider(host.socketEndpoint, undefined, options);
  const credentials = credentialsFromPem(
    { clientCertificate: identity.certificate, clientKey: identity.key, serverFingerprint: host.serverFingerprint },
    'e2e test identity',
  );
  return createHostProvider(host.httpsEndpoint, credentials, options);
}
