import type { Logger } from 'pino';
import type { AggregateHost, HostAggregate } from '../api/types.generated.js';
import { createHostProvider, credentialsFromSecretData, InvalidCredentialsError, type HostProvider, type HostProviderOptions } from '../hosts/index.js';
import { isNotFound } from '../runtime/errors.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { SECRET, type SecretObject } from './kinds.js';

/** A host's provider, or why marina cannot build one (the host's credentials are missing or unusable). */
export type HostHandle =
  | { readonly ok: true; readonly provider: HostProvider }
  | { readonly ok: false; readonly reason: 'CredentialsMissing' | 'CredentialsInvalid'; readonly message: string };

interface Entry {
  readonly identity: string;
  readonly provider: HostProvider;
}

/**
 * One HostProvider per aggregate host, kept across reconciles so that keep-alive connections are
 * reused, and rebuilt when the host's endpoint or credentials Secret changes.
 */
export class HostRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly options: HostProviderOptions = {},
  ) {}

  async handle(aggregate: HostAggregate, host: AggregateHost, signal?: AbortSignal): Promise<HostHandle> {
    const key = `${aggregate.metadata.name}/${host.name}`;
    const secret = await this.credentialsSecret(host, signal);
    if (secret && !secret.ok) return secret;
    const identity = JSON.stringify([host.endpoint, secret?.resourceVersion, aggregate.spec.storagePool, aggregate.spec.kernelModules]);
    const existing = this.entries.get(key);
    if (existing?.identity === identity) return { ok: true, provider: existing.provider };
    existing?.provider.close();
    try {
      const credentials = secret ? credentialsFromSecretData(secret.data, secret.source) : undefined;
      const provider = createHostProvider(host.endpoint, credentials, {
        ...this.options,
        provider: aggregate.spec.provider,
        name: host.name,
        storagePool: aggregate.spec.storagePool,
        ...(aggregate.spec.kernelModules ? { kernelModules: aggregate.spec.kernelModules } : {}),
      });
      this.entries.set(key, { identity, provider });
      return { ok: true, provider };
    } catch (err) {
      this.entries.delete(key);
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

  private async credentialsSecret(
    host: AggregateHost,
    signal?: AbortSignal,
  ): Promise<{ ok: true; data: Record<string, string>; resourceVersion: string; source: string } | { ok: false; reason: 'CredentialsMissing'; message: string } | undefined> {
    const ref = host.credentialsSecretRef;
    if (!ref) return undefined;
    const source = `Secret ${ref.namespace}/${ref.name}`;
    try {
      const secret = await this.client.get<SecretObject>(SECRET, { namespace: ref.namespace, name: ref.name }, signal);
      return { ok: true, data: secret.data ?? {}, resourceVersion: secret.metadata.resourceVersion ?? '', source };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.log.debug({ host: host.name, secret: source }, 'host credentials Secret not found');
      return { ok: false, reason: 'CredentialsMissing', message: `${source} with the host's credentials does not exist` };
    }
  }
}
