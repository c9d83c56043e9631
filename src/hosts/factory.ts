import type { TlsHostCredentials } from './credentials.js';
import type { LxdClientOptions } from './lxd/connect.js';
import { createLxdClient } from './lxd/connect.js';
import type { LxdProviderOptions } from './lxd/provider.js';
import { LxdHostProvider } from './lxd/provider.js';
import type { HostProvider } from './provider.js';

/** HostAggregate `spec.provider`. `lxd` covers LXD and Incus (told apart at runtime). */
export type ProviderKind = 'lxd';

export interface HostProviderOptions extends LxdClientOptions, LxdProviderOptions {
  readonly provider?: ProviderKind;
}

/**
 * Builds the provider for one host of a HostAggregate. `credentials` come from the host's Secret
 * (credentialsFromSecretData) and are required for https endpoints; unix endpoints ignore them.
 * Nothing is sent until the first call.
 */
export function createHostProvider(
  endpoint: string,
  credentials: TlsHostCredentials | undefined,
  options: HostProviderOptions = {},
): HostProvider {
  const client = createLxdClient(endpoint, credentials, options);
  return new LxdHostProvider(client, options);
}
