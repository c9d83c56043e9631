import type { IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, TransportError, type KubeStatus } from './errors.js';
import {
  collectionPath,
  nameOf,
  objectPath,
  type KubeList,
  type KubeObject,
  type ObjectName,
  type ResourceType,
} from './resource.js';
import { Transport, type TransportOptions, type TransportRequest } from './transport.js';

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
}

export interface WatchOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion: string;
  /** The apiserver ends the watch cleanly after this many seconds. */
  readonly timeoutSeconds: number;
  /** Aborting it closes the watch. */
  readonly signal: AbortSignal;
}

export interface WriteOptions {
  readonly subresource?: string;
  readonly signal?: AbortSignal;
}

export interface KubeClientOptions extends TransportOptions {
  /** Upper bound for one non-watch request, from sending to the last byte of the answer. */
  readonly requestTimeoutMs?: number;
}

/** Kubernetes verbs over JSON for any kind described by a ResourceType. */
export class KubeClient {
  private constructor(
    private readonly transport: Transport,
    private readonly requestTimeoutMs: number,
  ) {}

  static async fromKubeConfig(kubeConfig: KubeConfig, options: KubeClientOptions = {}): Promise<KubeClient> {
    const transport = await Transport.fromKubeConfig(kubeConfig, options);
    return new KubeClient(transport, options.requestTimeoutMs ?? 30_000);
  }

  get<T extends KubeObject>(type: ResourceType, ref: ObjectName, signal?: AbortSignal): Promise<T> {
    return this.call<T>({ method: 'GET', path: objectPath(type, ref), signal });
  }

  list<T extends KubeObject>(type: ResourceType, opts: ListOptions = {}, signal?: AbortSignal): Promise<KubeList<T>> {
    const { namespace, ...query } = opts;
    return this.call<KubeList<T>>({ method: 'GET', path: collectionPath(type, namespace), query, signal });
  }

  create<T extends KubeObject>(type: ResourceType, obj: T, signal?: AbortSignal): Promise<T> {
    return this.call<T>({ method: 'POST', path: collectionPath(type, obj.metadata.namespace), body: obj, signal });
  }

  /** PUT: fails with 409 Conflict when `obj.metadata.resourceVersion` is not the stored one. */
  replace<T extends KubeObject>(type: ResourceType, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.call<T>({ method: 'PUT', path: objectPath(type, nameOf(obj), opts.subresource), body: obj, signal: opts.signal });
  }

  patch<T extends KubeObject>(type: ResourceType, ref: ObjectName, patchType: PatchType, patch: unknown, opts: WriteOptions = {}): Promise<T> {
    const path = objectPath(type, ref, opts.subresource);
    return this.call<T>({ method: 'PATCH', path, body: patch, contentType: PATCH_CONTENT_TYPES[patchType], signal: opts.signal });
  }

  async delete(type: ResourceType, ref: ObjectName, signal?: AbortSignal): Promise<void> {
    await this.call<unknown>({ method: 'DELETE', path: objectPath(type, ref), signal });
  }

  /** Opens a watch; resolves with the newline-delimited JSON event stream once the apiserver said 200. */
  async watch(type: ResourceType, opts: WatchOptions): Promise<IncomingMessage> {
    const { namespace, signal, ...rest } = opts;
    const request: TransportRequest = {
      method: 'GET',
      path: collectionPath(type, namespace),
      query: { ...rest, watch: true, allowWatchBookmarks: true },
      signal,
    };
    const res = await this.transport.send(request);
    if (res.statusCode === 200) return res;
    throw await apiErrorOf(request, res);
  }

  close(): void {
    this.transport.close();
  }

  private async call<T>(req: TransportRequest): Promise<T> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const request = { ...req, signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout };
    const res = await this.transport.send(request);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw await apiErrorOf(request, res);
    const body = await readBody(res).catch((err: unknown) => {
      throw new TransportError(req.method, req.path, err);
    });
    return (body ? JSON.parse(body) : undefined) as T;
  }
}

async function apiErrorOf(req: TransportRequest, res: IncomingMessage): Promise<ApiError> {
  const code = res.statusCode ?? 0;
  const body = await readBody(res).catch(() => '');
  let status: KubeStatus;
  try {
    status = JSON.parse(body) as KubeStatus;
  } catch {
    status = { code, reason: res.statusMessage ?? 'Unknown', message: body.slice(0, 500) };
  }
  return ApiError.fromStatus({ ...status, code }, req.method, req.path);
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error('connection closed before the response ended'));
    });
  });
}
