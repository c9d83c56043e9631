import type { HostErrorContext } from '../errors.js';
import { HostApiError, HostAuthError } from '../errors.js';
import type { Envelope, LxdOperation, LxdServer } from './api-types.js';
import type { HostEnvironment } from '../types.js';
import { envelopeError, expectAsync, expectSync, isErrorEnvelope, parseEnvelope } from './envelope.js';
import { waitForOperation } from './operations.js';
import { redeemTrustToken } from './trust.js';
import type { HttpMethod, RawResponse, RequestBody, Transport } from './transport.js';

/** What the caller was doing; the client adds the host. */
export type CallContext = Omit<HostErrorContext, 'host'>;

export interface CallOptions {
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent as is (file pushes, image uploads). */
  readonly body?: RequestBody;
  readonly headers?: Readonly<Record<string, string>>;
  /** Deadline of this one HTTP exchange (the client's default otherwise). */
  readonly timeoutMs?: number;
}

export interface OperationOptions extends CallOptions {
  /** Deadline for the operation to finish, on top of submitting it. */
  readonly operationTimeoutMs: number;
}

export type ServerKind = 'lxd' | 'incus';

export interface ServerInfo {
  readonly kind: ServerKind;
  readonly version: string;
  readonly trusted: boolean;
  readonly apiExtensions: readonly string[];
  readonly environment: HostEnvironment;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * A typed LXD/Incus REST client over one transport (unix socket or pinned mutual TLS). It turns
 * envelopes into results or HostErrors, waits for asynchronous operations, and knows which of the
 * two daemons it talks to (detected from `GET /1.0` environment.server) for the few places where they
 * differ, such as the `X-LXD-*` / `X-Incus-*` file headers.
 */
export class LxdClient {
  private serverInfo: Promise<ServerInfo> | undefined;
  /** A trust token not yet redeemed: the host's one-time consent to trust this client's certificate. */
  private trustToken: string | undefined;

  constructor(
    readonly transport: Transport,
    /** The host's name, for errors. */
    readonly host: string,
    readonly defaultTimeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
    trustToken?: string,
  ) {
    this.trustToken = trustToken;
  }

  context(call: CallContext): HostErrorContext {
    return { host: this.host, ...call };
  }

  /** A call answered synchronously; returns the envelope's metadata. */
  async call<T>(method: HttpMethod, path: string, call: CallContext, options: CallOptions = {}): Promise<T> {
    const context = this.context(call);
    const response = await this.send(method, path, context, options);
    return expectSync<T>(parseEnvelope(response, context), context, this.transport.secure);
  }

  get<T>(path: string, call: CallContext, options: CallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, call, options);
  }

  /** Submits a call the host answers with an operation, and waits until that operation succeeded. */
  async run(method: HttpMethod, path: string, call: CallContext, options: OperationOptions): Promise<LxdOperation> {
    const context = this.context(call);
    const started = Date.now();
    const envelope = parseEnvelope(await this.send(method, path, context, options), context);
    return this.operationDone(envelope, context, started, options);
  }

  /**
   * A change the host may answer either way: LXD 5.0 answers an instance PATCH at once, Incus with an
   * operation, which is then waited for.
   */
  async change(method: HttpMethod, path: string, call: CallContext, options: OperationOptions): Promise<void> {
    const context = this.context(call);
    const started = Date.now();
    const envelope = parseEnvelope(await this.send(method, path, context, options), context);
    if (envelope.type !== 'sync') await this.operationDone(envelope, context, started, options);
  }

  /** Waits for the operation an async envelope started, within what is left of the caller's timeout. */
  private operationDone(
    envelope: Envelope,
    context: HostErrorContext,
    started: number,
    options: OperationOptions,
  ): Promise<LxdOperation> {
    const submitted = expectAsync(envelope, context, this.transport.secure);
    const remaining = Math.max(1, options.operationTimeoutMs - (Date.now() - started));
    return waitForOperation(this, submitted.metadata, context, remaining);
  }

  /** A response that is not an envelope (exec output files); error envelopes still become errors. */
  async fetch(path: string, call: CallContext, options: CallOptions = {}): Promise<Buffer> {
    const context = this.context(call);
    const response = await this.send('GET', path, context, options);
    if (response.status >= 400) {
      const envelope = parseEnvelope(response, context);
      if (isErrorEnvelope(envelope)) throw envelopeError(envelope, context, this.transport.secure);
      throw new HostApiError(context, response.status, 'request failed');
    }
    return response.body;
  }

  send(method: HttpMethod, path: string, context: HostErrorContext, options: CallOptions): Promise<RawResponse> {
    const body: RequestBody | undefined =
      options.json === undefined
        ? options.body
        : { kind: 'bytes', contentType: 'application/json', data: Buffer.from(JSON.stringify(options.json)) };
    return this.transport.send(
      { method, path, body, headers: options.headers, timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs },
      context,
    );
  }

  /**
   * `GET /1.0`, cached after the first success (a failure is retried on the next call). `call` names
   * what the caller was doing, for the error when the host does not answer.
   */
  server(call: CallContext = { operation: 'get-server' }): Promise<ServerInfo> {
    this.serverInfo ??= this.fetchServer(call).catch((error: unknown) => {
      this.serverInfo = undefined;
      throw error;
    });
    return this.serverInfo;
  }

  /** Forgets the cached `GET /1.0`, e.g. after this client became trusted. */
  forgetServer(): void {
    this.serverInfo = undefined;
  }

  /** Throws HostAuthError unless the host trusts this client (always the case on the unix socket). */
  async requireTrusted(call: CallContext): Promise<ServerInfo> {
    const info = await this.serverRedeemingToken(call);
    if (!info.trusted) {
      this.serverInfo = undefined; // an admin may add the certificate; look again next time
      throw new HostAuthError(
        this.context(call),
        "the host does not trust marina's client certificate; add it with `lxc config trust add` (see docs/hosts.md)",
      );
    }
    return info;
  }

  /**
   * `GET /1.0`; when the host does not trust this client yet and a trust token was given, the token is
   * redeemed first (once: tokens are single-use, so a refused one is not sent again).
   */
  async serverRedeemingToken(call: CallContext): Promise<ServerInfo> {
    const info = await this.server(call);
    const token = this.trustToken;
    if (info.trusted || token === undefined) return info;
    this.trustToken = undefined;
    try {
      await redeemTrustToken(this, token);
    } catch (error) {
      throw new HostAuthError(
        this.context(call),
        `the host refused the trust token in the credentials (${reasonOf(error)}); a token is single-use and ` +
          'may expire: issue a new one with `incus config trust add marina` or `lxc config trust add --name marina`',
        { cause: error },
      );
    }
    this.forgetServer();
    const after = await this.server(call);
    if (!after.trusted) {
      throw new HostAuthError(this.context(call), 'the host took the trust token but still does not trust marina');
    }
    return after;
  }

  /** Prefix of the custom headers of file and image endpoints: LXD says X-LXD-*, Incus X-Incus-*. */
  async headerPrefix(): Promise<'X-LXD' | 'X-Incus'> {
    return (await this.server()).kind === 'incus' ? 'X-Incus' : 'X-LXD';
  }

  close(): void {
    this.transport.close();
  }

  private async fetchServer(call: CallContext): Promise<ServerInfo> {
    const server = await this.get<LxdServer>('/1.0', call);
    return {
      kind: server.environment?.server === 'incus' ? 'incus' : 'lxd',
      version: server.environment?.server_version ?? 'unknown',
      trusted: server.auth === 'trusted',
      apiExtensions: server.api_extensions ?? [],
      environment: hostEnvironment(server.environment),
    };
  }
}

function hostEnvironment(env: LxdServer['environment']): HostEnvironment {
  const cgroup2 = env?.lxc_features?.['cgroup2'];
  return {
    ...(env?.storage ? { storageDriver: env.storage } : {}),
    ...(env?.kernel_version ? { kernelVersion: env.kernel_version } : {}),
    ...(env?.firewall ? { firewall: env.firewall } : {}),
    ...(cgroup2 !== undefined ? { cgroup2: cgroup2 === 'true' } : {}),
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
