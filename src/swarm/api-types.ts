/**
 * The parts of the Docker Engine API (1.41, dockerd 20.10, and later versions alike) that marina
 * reads. @types/dockerode types these answers as `any`; these shapes mark every field optional
 * because dockerd omits empty ones, and the mapping code decides what a missing field means.
 */

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';
export type ManagerReachability = 'unknown' | 'unreachable' | 'reachable';
export type LocalNodeState = '' | 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export interface WireVersion {
  readonly Index?: number;
}

export interface WireNodeSpec {
  readonly Name?: string;
  readonly Labels?: Record<string, string>;
  readonly Role?: NodeRole;
  readonly Availability?: NodeAvailability;
}

export interface WireTlsInfo {
  readonly TrustRoot?: string;
  readonly CertIssuerSubject?: string;
  readonly CertIssuerPublicKey?: string;
}

export interface WireNode {
  readonly ID?: string;
  readonly Version?: WireVersion;
  readonly Spec?: WireNodeSpec;
  readonly Description?: {
    readonly Hostname?: string;
    readonly Resources?: { readonly NanoCPUs?: number; readonly MemoryBytes?: number };
    readonly TLSInfo?: WireTlsInfo;
    readonly Engine?: { readonly EngineVersion?: string };
  };
  readonly Status?: { readonly State?: NodeState; readonly Message?: string; readonly Addr?: string };
  readonly ManagerStatus?: { readonly Leader?: boolean; readonly Reachability?: ManagerReachability; readonly Addr?: string };
}

export interface WireResources {
  readonly NanoCPUs?: number;
  readonly MemoryBytes?: number;
}

export interface WireTask {
  readonly ID?: string;
  readonly ServiceID?: string;
  readonly NodeID?: string;
  readonly DesiredState?: string;
  readonly Spec?: { readonly Resources?: { readonly Reservations?: WireResources; readonly Limits?: WireResources } };
  readonly Status?: { readonly State?: string; readonly Message?: string; readonly Err?: string };
}

export interface WireSwarmSpec {
  readonly Name?: string;
  readonly CAConfig?: { readonly ForceRotate?: number; readonly NodeCertExpiry?: number; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export interface WireSwarm {
  readonly ID?: string;
  readonly Version?: WireVersion;
  readonly Spec?: WireSwarmSpec;
  readonly TLSInfo?: WireTlsInfo;
  readonly RootRotationInProgress?: boolean;
  readonly JoinTokens?: { readonly Worker?: string; readonly Manager?: string };
}

/** `GET /info` → `.Swarm`: this daemon's own view of its membership. */
export interface WireLocalSwarmInfo {
  readonly NodeID?: string;
  readonly NodeAddr?: string;
  readonly LocalNodeState?: LocalNodeState;
  readonly ControlAvailable?: boolean;
  readonly Error?: string;
  readonly RemoteManagers?: ReadonlyArray<{ readonly NodeID?: string; readonly Addr?: string }> | null;
  /** Present on managers only. */
  readonly Cluster?: { readonly ID?: string } | null;
}
