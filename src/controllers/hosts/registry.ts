import type { Logger } from 'pino';
import type { AggregateHost, HostAggregate } from '../../api/types.generated.js';
import {
  createHostProvider,
  credentialsFromSecretData,
  InvalidCredentialsError,
  type HostProvider,
  type HostProviderOptions,
  type TlsHostCredentials,
} from '../../hosts/index.js';
import type { SecretObject } from '../kinds.js';
import type { HostCallObserver } from '../metrics.js';
import { hostKey } from '../bay/names.js';
import { instrumentedProvider } from './instrumented-provider.js';

/** Why marina cannot build a host's provider: what an admin fixes differs for each. */
export type HostHandleProblem = 'CredentialsMissing' | 'CredentialsInvalid' | 'CredentialsNotAllowed';

/** A host's provider, or why marina cannot build one. */
export type HostHandle =
  | { readonly ok: true; readonly provider: HostProvider }
  | { readonly ok: false; readonly reason: HostHandleProblem; readonly message: string };

/** Builds the provider of one host: the LXD/Incus client in production, simulated hosts in benchmarks. */
export type HostProviderFactory = (
  endpoint: string,
  credentials: TlsHostCredentials | undefined,
  options: HostProviderOptions & { readonly name: string; readonly aggregate: string },
) => HostProvider;

export interface HostRegistryOptions {
  /** Reads a Secret from the operator's cache; undefined when it does not exist. */
  readonly secret: (namespace: string, name: string) => SecretObject | undefined;
  /**
   * Namespaces a credentialsSecretRef may point into: the operator's own (and any an admin adds). A
   * host key is power over every node on that host, so tenants' namespaces are never read for one.
   */
  readonly credentialNamespaces: ReadonlySet<string>;
  readonly log: Logger;
  readonly factory?: HostProviderFactory;
  readonly observeCall?: HostCallObserver;
  readonly providerOptions?: HostProviderOptions;
}

interface Entry {
  readonly identity: string;
  readonly provider: HostProvider;
}

/**
 * One HostProvider per aggregate host, kept across reconciles so that keep-alive connections are
 * reused, and rebuilt when the host's endpoint, credentials Secret or node settings change. Reads
 * nothing from the apiserver: credentials come from the Secret cache.
 */
export class HostRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly factory: HostProviderFactory;

  constructor(private readonly opts: HostRegistryOptions) {
    this.factory = opts.factory ?? ((endpoint, credentials, options) => createHostProvider(endpoint, credentials, options));
  }

  handle(aggregate: HostAggregate, host: AggregateHost): HostHandle {
    const key = hostKey(aggregate.metadata.name!, host.name);
    const secret = this.credentialsSecret(host);
    if (secret && !secret.ok) return secret;
    const { storagePool, kernelModules, provider: kind } = aggregate.spec;
    const identity = JSON.stringify([host.endpoint, secret?.resourceVersion, storagePool, kernelModules, kind]);
    const existing = this.entries.get(key);
    if (existing?.identity === identity) return { ok: true, provider: existing.provider };
    existing?.provider.close();
    this.entries.delete(key);
    try {
      const credentials = secret ? credentialsFromSecretData(secret.data, secret.source) : undefined;
      const options = {
        ...this.opts.providerOptions,
        provider: kind,
        name: host.name,
        aggregate: aggregate.metadata.name!,
        storagePool,
        ...(kernelModules ? { kernelModules } : {}),
      };
      const built = this.factory(host.endpoint, credentials, options);
      const provider = this.opts.observeCall ? instrumentedProvider(built, this.opts.observeCall) : built;
      this.entries.set(key, { identity, provider });
      return { ok: true, provider };
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return { ok: false, reason: 'CredentialsInvalid', message: err.message };
      throw err;
    }
  }

  /** Closes the providers of hosts no aggregate lists any more. */
  retain(liveKeys: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) {
      if (liveKeys.has(key)) continue;
      entry.provider.close();
      this.entries.delete(key);
    }
  }

  closeAll(): void {
    this.retain(new Set());
  }

  private credentialsSecret(
    host: AggregateHost,
  ):
    | { ok: true; data: Record<string, string>; resourceVersion: string; source: string }
    | { ok: false; reason: HostHandleProblem; message: string }
    | undefined {
    const ref = host.credentialsSecretRef;
    if (!ref) return undefined;
    const source = `Secret ${ref.namespace}/${ref.name}`;
    if (!this.opts.credentialNamespaces.has(ref.namespace)) {
      const allowed = [...this.opts.credentialNamespaces].join(', ');
      return { ok: false, reason: 'CredentialsNotAllowed', message: `${source} is outside the namespaces marina reads host credentials from (${allowed})` };
    }
    const secret = this.opts.secret(ref.namespace, ref.name);
    if (!secret) {
      this.opts.log.debug({ host: host.name, secret: source }, 'host credentials Secret not found');
      return { ok: false, reason: 'CredentialsMissing', message: `${source} with the host's credentials does not exist` };
    }
    return { ok: true, data: secret.data ?? {}, resourceVersion: secret.metadata.resourceVersion ?? '', source };
  }
}
