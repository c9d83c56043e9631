import Docker from 'dockerode';

import type { SimDockerConfig } from './config.js';
import { dockerFaultMatches, type DockerFaultSpec, type FaultBook } from './faults.js';
import type { SimInstance } from './instance.js';
import { cpuLimit, hostnameOf, memoryLimit } from './instance.js';
import type { Latency } from './latency.js';
import { abortError } from './latency.js';
import type { CallCounters } from './counters.js';
import type { Swarms, SwarmInitBody, SwarmJoinBody } from './swarm.js';
import type { NodeSpecRecord, SwarmCluster } from './swarm-cluster.js';
import {
  createService,
  findService,
  listServices,
  listTasks,
  removeService,
  serviceJson,
  type ServiceSpec,
} from './swarm-tasks.js';
import { DockerApiError, parseFilters } from './swarm-wire.js';

/**
 * The dockerd of every simulated node behind one HTTP-like entry point, and a docker-modem stand-in
 * that dockerode accepts (`new Docker({ modem })`): the swarm layer's own dockerode calls reach the
 * simulation unchanged, with dockerd's status codes and messages and Node's transport errors.
 */

/** What the engine needs from the world. */
export interface EngineWorld {
  readonly swarms: Swarms;
  readonly latency: Latency;
  readonly counters: CallCounters;
  readonly dockerFaults: FaultBook<DockerFaultSpec>;
  readonly dockerConfig: SimDockerConfig;
  instanceByAddress(address: string): SimInstance | undefined;
  listenerOn(instance: SimInstance, port: number): 'tls' | 'plain' | undefined;
  now(): number;
  changed(): void;
}

export interface DockerRequest {
  readonly method: string;
  /** Without query string and API version prefix. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface DockerResponse {
  readonly status: number;
  /** As dockerd writes it: JSON, or text for `/_ping`, or nothing. */
  readonly text: string;
}

/** `connect ECONNREFUSED 10.0.0.7:2376`, shaped as Node raises it. */
export function transportError(code: 'ECONNREFUSED' | 'ECONNRESET' | 'EPROTO', address: string, port: number): Error {
  const messages = {
    ECONNREFUSED: `connect ECONNREFUSED ${address}:${port}`,
    ECONNRESET: 'socket hang up',
    EPROTO: 'write EPROTO SSL routines:ssl3_get_record:wrong version number',
  };
  return Object.assign(new Error(messages[code]), {
    code,
    syscall: code === 'ECONNREFUSED' ? 'connect' : 'write',
    address,
    port,
  });
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** As counted and as faults name it: `GET /nodes/{id}`. */
  readonly name: string;
  readonly handle: (ctx: RouteContext, id: string) => unknown;
  /** dockerd's status for a success. */
  readonly status: number;
}

interface RouteContext {
  readonly world: EngineWorld;
  readonly instance: SimInstance;
  readonly request: DockerRequest;
}

/** A body dockerd writes as it is rather than as JSON. */
class TextBody {
  constructor(readonly text: string) {}
}

const EMPTY = new TextBody('');

/** `GET /nodes/{id}` → a route matching that method and path, `{id}` captured. */
function route(name: string, handle: Route['handle'], status = 200): Route {
  const [method = '', template = ''] = name.split(' ');
  return { method, name, handle, status, pattern: new RegExp(`^${template.replace('{id}', '([^/]+)')}$`) };
}

const manager = (ctx: RouteContext): SwarmCluster => ctx.world.swarms.managedBy(ctx.instance);

const ROUTES: readonly Route[] = [
  route('GET /_ping', () => new TextBody('OK')),
  route('GET /version', (ctx) => versionOf(ctx.world.dockerConfig)),
  route('GET /info', (ctx) => infoOf(ctx)),
  route('POST /swarm/init', (ctx) => swarmInit(ctx)),
  route('POST /swarm/join', (ctx) => swarmJoin(ctx)),
  route('POST /swarm/leave', (ctx) => swarmLeave(ctx)),
  route('GET /swarm', (ctx) => manager(ctx).inspect(true)),
  route('POST /swarm/update', (ctx) => swarmUpdate(ctx)),
  route('GET /nodes', (ctx) => manager(ctx).listNodes(filtersOf(ctx))),
  route('GET /nodes/{id}', (ctx, id) => nodeInspect(ctx, id)),
  route('POST /nodes/{id}/update', (ctx, id) => nodeUpdate(ctx, id)),
  route('DELETE /nodes/{id}', (ctx, id) => nodeRemove(ctx, id)),
  route('GET /tasks', (ctx) => listTasks(manager(ctx), filtersOf(ctx))),
  route('POST /services/create', (ctx) => ({ ID: createService(manager(ctx), bodyOf<ServiceSpec>(ctx)).id }), 201),
  route('GET /services', (ctx) => listServices(manager(ctx), filtersOf(ctx))),
  route('GET /services/{id}', (ctx, id) => serviceJson(findService(manager(ctx), id))),
  route('DELETE /services/{id}', (ctx, id) => (removeService(manager(ctx), id), EMPTY)),
  route('GET /networks', (ctx) => swarmNetworks(manager(ctx))),
  route('DELETE /networks/{id}', (ctx, id) => (removeSwarmNetwork(manager(ctx), id), EMPTY)),
];

export interface RoutedRequest {
  readonly route: string;
  /** Runs the request against the node's dockerd as it is at that moment. */
  answer(instance: SimInstance): DockerResponse;
}

export function routeRequest(world: EngineWorld, request: DockerRequest): RoutedRequest {
  for (const candidate of ROUTES) {
    const match = candidate.method === request.method ? candidate.pattern.exec(request.path) : null;
    if (!match) continue;
    const id = decodeURIComponent(match[1] ?? '');
    return { route: candidate.name, answer: (instance) => answerWith(candidate, { world, instance, request }, id) };
  }
  return {
    route: `${request.method} ${request.path}`,
    answer: () => ({ status: 404, text: JSON.stringify({ message: 'page not found' }) }),
  };
}

function answerWith(route: Route, ctx: RouteContext, id: string): DockerResponse {
  try {
    const result = route.handle(ctx, id);
    // Reads can change state too (a swarm settles when asked): the swarms report those changes themselves.
    if (route.method !== 'GET') ctx.world.changed();
    return { status: route.status, text: result instanceof TextBody ? result.text : JSON.stringify(result) };
  } catch (error) {
    if (!(error instanceof DockerApiError)) throw error;
    return { status: error.status, text: JSON.stringify({ message: error.message }) };
  }
}

function bodyOf<T>(ctx: RouteContext): T {
  return (ctx.request.body ?? {}) as T;
}

function filtersOf(ctx: RouteContext): ReturnType<typeof parseFilters> {
  return parseFilters(ctx.request.query.get('filters'));
}

function versionOf(config: SimDockerConfig): Record<string, unknown> {
  return {
    Platform: { Name: '' },
    Version: config.engineVersion,
    ApiVersion: config.apiVersion,
    MinAPIVersion: '1.12',
    GitCommit: 'sim',
    GoVersion: 'go1.19.8',
    Os: 'linux',
    Arch: 'amd64',
    KernelVersion: '6.1.0-sim',
    BuildTime: '2023-01-01T00:00:00.000000000+00:00',
  };
}

/** What `docker info` says; CPUs and memory are the node's limits (as with lxcfs on the host). */
function infoOf(ctx: RouteContext): Record<string, unknown> {
  const { instance, world } = ctx;
  return {
    ID: `SIM:${instance.uid}`,
    Containers: 0,
    Images: 0,
    Driver: 'overlay2',
    Name: hostnameOf(instance),
    NCPU: cpuLimit(instance) ?? 1,
    MemTotal: memoryLimit(instance) ?? 0,
    ServerVersion: world.dockerConfig.engineVersion,
    OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
    OSType: 'linux',
    Architecture: 'x86_64',
    KernelVersion: '6.1.0-sim',
    LiveRestoreEnabled: false,
    Swarm: world.swarms.localInfo(instance),
  };
}

/** The swarm's networks as a manager lists them: the ingress network while there is one. */
function swarmNetworks(cluster: SwarmCluster): Record<string, unknown>[] {
  if (!cluster.data.ingress) return [];
  return [{ Name: INGRESS, Id: INGRESS_ID, Driver: 'overlay', Scope: 'swarm', Ingress: true }];
}

function removeSwarmNetwork(cluster: SwarmCluster, id: string): void {
  if (!cluster.data.ingress || (id !== INGRESS && id !== INGRESS_ID)) {
    throw new DockerApiError(404, `network ${id} not found`);
  }
  cluster.data.ingress = false;
}

const INGRESS = 'ingress';
const INGRESS_ID = 'ingress0000000000000000000';

function swarmInit(ctx: RouteContext): string {
  return ctx.world.swarms.init(ctx.instance, bodyOf<SwarmInitBody>(ctx));
}

function swarmJoin(ctx: RouteContext): TextBody {
  ctx.world.swarms.join(ctx.instance, bodyOf<SwarmJoinBody>(ctx), (address) => ctx.world.instanceByAddress(address));
  return EMPTY;
}

function swarmLeave(ctx: RouteContext): TextBody {
  ctx.world.swarms.leave(ctx.instance, ctx.request.query.get('force') === 'true');
  return EMPTY;
}

function swarmUpdate(ctx: RouteContext): TextBody {
  const cluster = manager(ctx);
  const version = requiredVersion(ctx, 'swarm');
  const flag = (name: string): boolean => ctx.request.query.get(name) === 'true';
  cluster.update(version, bodyOf<Record<string, unknown>>(ctx), {
    worker: flag('rotateWorkerToken'),
    manager: flag('rotateManagerToken'),
  });
  return EMPTY;
}

function nodeInspect(ctx: RouteContext, id: string): Record<string, unknown> {
  const cluster = manager(ctx);
  return cluster.nodeJson(cluster.requireNode(id));
}

function nodeUpdate(ctx: RouteContext, id: string): TextBody {
  const cluster = manager(ctx);
  cluster.updateNode(id, requiredVersion(ctx, 'node'), bodyOf<Partial<NodeSpecRecord>>(ctx));
  return EMPTY;
}

function nodeRemove(ctx: RouteContext, id: string): TextBody {
  const removed = manager(ctx).removeNode(id, ctx.request.query.get('force') === 'true');
  ctx.world.swarms.forgetMember(removed.instanceUid, removed.id);
  return EMPTY;
}

function requiredVersion(ctx: RouteContext, object: string): number {
  const raw = ctx.request.query.get('version') ?? '';
  if (!/^\d+$/.test(raw)) {
    const detail = `strconv.ParseUint: parsing "${raw}": invalid syntax`;
    throw new DockerApiError(400, `invalid ${object} version '${raw}': ${detail}`);
  }
  return Number(raw);
}

/** The options docker-modem's `dial` receives from dockerode (docker-modem 5, lib/modem.js). */
export interface DialOptions {
  readonly path: string;
  readonly method: string;
  readonly options?: Record<string, unknown> | null;
  readonly statusCodes?: Record<string, boolean | string>;
  readonly abortSignal?: AbortSignal;
  readonly allowEmpty?: boolean;
}

export type DialCallback = (error: Error | null, data?: unknown) => void;

/**
 * A docker-modem stand-in for one node address. It builds the query and body exactly as
 * docker-modem does (`_query`/`_body`, objects in the query as JSON, empty POST bodies dropped), so
 * what dockerode sends is what the simulated dockerd reads, and it turns answers into what
 * docker-modem resolves or rejects with.
 */
export class SimModem {
  /** dockerode sets this to the Promise implementation it was given. */
  Promise: PromiseConstructor = Promise;

  constructor(
    private readonly world: EngineWorld,
    readonly address: string,
    readonly port: number,
    private readonly timeoutMs: number | undefined,
  ) {}

  dial(options: DialOptions, callback: DialCallback): void {
    this.exchange(options).then(
      (data) => callback(null, data),
      (error: Error) => callback(error),
    );
  }

  private async exchange(options: DialOptions): Promise<unknown> {
    const request = encodeRequest(options);
    const routed = routeRequest(this.world, request);
    this.world.counters.countDocker(routed.route);
    await this.world.latency.wait('docker', options.abortSignal);
    const fault = this.world.dockerFaults.take((spec) => dockerFaultMatches(spec, this.address, routed.route));
    if (fault) return this.failWith(fault, options);
    return decodeResponse(routed.answer(this.listeningDockerd()), options.statusCodes ?? {});
  }

  /** The node whose dockerd serves TLS on this address and port; what Node raises otherwise. */
  private listeningDockerd(): SimInstance {
    const instance = this.world.instanceByAddress(this.address);
    const listener = instance && this.world.listenerOn(instance, this.port);
    if (listener === 'plain') throw transportError('EPROTO', this.address, this.port);
    if (listener === undefined || instance === undefined) throw transportError('ECONNREFUSED', this.address, this.port);
    return instance;
  }

  private async failWith(fault: DockerFaultSpec, options: DialOptions): Promise<unknown> {
    switch (fault.kind) {
      case 'refused':
        throw transportError('ECONNREFUSED', this.address, this.port);
      case 'reset':
        throw transportError('ECONNRESET', this.address, this.port);
      case 'hang':
        return this.hang(options.abortSignal);
      case 'status': {
        const text = JSON.stringify({ message: fault.message ?? 'injected failure' });
        return decodeResponse({ status: fault.status ?? 500, text }, options.statusCodes ?? {});
      }
    }
  }

  /** No answer: the client's timeout resets the socket, its signal aborts the request. */
  private hang(signal: AbortSignal | undefined): Promise<never> {
    return new Promise((_, reject) => {
      const timer =
        this.timeoutMs === undefined
          ? undefined
          : setTimeout(() => reject(transportError('ECONNRESET', this.address, this.port)), this.timeoutMs);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
  }
}

/** docker-modem's own query and body handling, then read back as dockerd would parse them. */
export function encodeRequest(options: DialOptions): DockerRequest {
  const opts = options.options ?? undefined;
  const path = (options.path.split('?')[0] ?? '').replace(/^\/v\d+\.\d+(?=\/)/, '');
  const query = new URLSearchParams();
  if (options.path.includes('?') && opts && Object.keys(opts).length > 0) {
    const source = (opts._query ?? opts) as Record<string, unknown>;
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined || key === 'abortSignal') continue;
      query.set(
        key,
        value && typeof value === 'object' && !Array.isArray(value) ? JSON.stringify(value) : String(value),
      );
    }
  }
  let body: unknown;
  if (opts && options.method === 'POST') {
    // docker-modem deletes the signal from the options before it serialises them.
    const { abortSignal: _signal, ...plain } = opts;
    const data = JSON.stringify(opts._body ?? plain);
    if (options.allowEmpty || (data !== '{}' && data !== '""')) body = JSON.parse(data);
  }
  return { method: options.method, path, query, body };
}

/** What docker-modem resolves with (parsed JSON, else the raw bytes), or its error for an unexpected status. */
function decodeResponse(response: DockerResponse, statusCodes: Record<string, boolean | string>): unknown {
  const json = parseJson(response.text);
  const data = json ?? Buffer.from(response.text);
  if (statusCodes[response.status] === true) return data;
  const reason = statusCodes[response.status];
  const cause = (json as { message?: string } | null)?.message ?? response.text;
  const error = new Error(
    `(HTTP code ${response.status}) ${typeof reason === 'string' ? reason : 'unexpected'} - ${cause} `,
  );
  throw Object.assign(error, { reason, statusCode: response.status, json: data });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export interface SimDockerOptions {
  /** Default 2376, where marina's daemon.json has dockerd serve TLS. */
  readonly port?: number;
  /** Like dockerode's `timeout`: a call that gets no answer for this long fails (socket hang up). */
  readonly timeoutMs?: number;
}

export function simDockerode(world: EngineWorld, address: string, options: SimDockerOptions = {}): Docker {
  return new Docker({
    modem: new SimModem(world, address, options.port ?? 2376, options.timeoutMs),
  } as unknown as Docker.DockerOptions);
}
