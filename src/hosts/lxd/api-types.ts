/**
 * The parts of the LXD/Incus REST API marina reads and writes (field names as on the wire).
 * Sources: canonical/lxd `shared/api/*.go`, lxc/incus `shared/api/*.go`, `doc/rest-api.md`.
 * All configuration and device values are strings on the wire.
 */

export type ConfigMap = Record<string, string>;
export type DeviceMap = Record<string, ConfigMap>;

export interface SyncEnvelope<T = unknown> {
  readonly type: 'sync';
  readonly status: string;
  readonly status_code: number;
  readonly metadata: T;
}

export interface AsyncEnvelope {
  readonly type: 'async';
  readonly status_code: number;
  readonly operation: string;
  readonly metadata: LxdOperation;
}

export interface ErrorEnvelope {
  readonly type: 'error';
  readonly error: string;
  readonly error_code: number;
}

export type Envelope = SyncEnvelope | AsyncEnvelope | ErrorEnvelope;

/** Operation status codes: 100-113 are in flight or intermediate, 200 success, 400 failure, 401 cancelled. */
export const OPERATION_SUCCESS = 200;
export const OPERATION_FAILURE = 400;
export const OPERATION_CANCELLED = 401;

export interface LxdOperation {
  readonly id: string;
  readonly class: 'task' | 'websocket' | 'token';
  readonly status: string;
  readonly status_code: number;
  readonly err: string;
  readonly metadata: Record<string, unknown> | null;
  readonly resources?: Record<string, string[]> | null;
}

export interface LxdServer {
  readonly api_extensions?: string[];
  readonly api_version: string;
  readonly auth: 'trusted' | 'untrusted';
  readonly environment?: {
    readonly server?: string;
    readonly server_version?: string;
    readonly certificate?: string;
    readonly certificate_fingerprint?: string;
    readonly kernel_version?: string;
    readonly storage?: string;
    readonly firewall?: string;
    readonly lxc_features?: Readonly<Record<string, string>>;
  };
}

export interface InstancesPost {
  readonly name: string;
  readonly type: 'container';
  readonly profiles: string[];
  readonly start: boolean;
  readonly config: ConfigMap;
  readonly devices: DeviceMap;
  readonly source: { readonly type: 'image'; readonly alias?: string; readonly fingerprint?: string };
}

export interface LxdInstance {
  readonly name: string;
  readonly status: string;
  readonly status_code: number;
  readonly created_at?: string;
  /** When the instance last started; LXD and Incus write the zero time (year 1) before its first start. */
  readonly last_used_at?: string;
  readonly config: ConfigMap;
  readonly expanded_config?: ConfigMap;
  readonly devices: DeviceMap;
  readonly expanded_devices?: DeviceMap;
  /** Present in `GET /1.0/instances?recursion=2` answers. */
  readonly state?: LxdInstanceState | null;
}

export interface LxdAddress {
  readonly family: 'inet' | 'inet6';
  readonly address: string;
  readonly netmask: string;
  readonly scope: string;
}

export interface LxdInstanceState {
  readonly status: string;
  readonly status_code: number;
  readonly network?: Record<string, { readonly addresses: LxdAddress[] }> | null;
}

export interface InstanceStatePut {
  readonly action: 'start' | 'stop' | 'restart' | 'freeze' | 'unfreeze';
  readonly timeout: number;
  readonly force: boolean;
}

export interface InstanceExecPost {
  readonly command: readonly string[];
  readonly environment: Record<string, string>;
  readonly cwd?: string;
  readonly 'wait-for-websocket': false;
  readonly 'record-output': true;
  readonly interactive: false;
}

export interface LxdResources {
  readonly cpu: { readonly total: number };
  readonly memory: { readonly total: number; readonly used?: number };
}

export interface LxdStoragePoolResources {
  readonly space: { readonly total: number; readonly used?: number };
}

export interface LxdImageAlias {
  readonly name: string;
  readonly target: string;
}

export interface LxdNetwork {
  readonly name: string;
  readonly managed: boolean;
  readonly type: string;
  readonly config: ConfigMap;
}

export interface CertificatesPost {
  readonly type: 'client';
  readonly name?: string;
  readonly certificate?: string;
  readonly trust_token?: string;
  readonly password?: string;
}
