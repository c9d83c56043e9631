import type { LabelSelector } from '../api/types.generated.js';

export type NodeRole = 'manager' | 'worker';

export interface Resources {
  readonly cpu: number;
  readonly memoryBytes: number;
  /** Unknown when the host does not report its storage pool. */
  readonly diskBytes?: number;
}

/** A host as the scheduler sees it: what its aggregate promises and what its last probe found. */
export interface HostCandidate {
  readonly aggregate: string;
  readonly host: string;
  /** The aggregate's spec.metadata, matched against the bay's aggregateSelector. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly allowedNamespaces?: LabelSelector;
  readonly ready: boolean;
  /** Why the host is not ready, in words for the operator's log (may name the host's endpoint). */
  readonly notReadyReason?: string;
  /**
   * The aggregate status's CamelCase reason for it (CredentialsMissing, ImageMissing, Unreachable, ...):
   * names no endpoint, so a tenant may read it and know whom to ask.
   */
  readonly notReadyCode?: string;
  readonly cordoned: boolean;
  /** Its nodes are being moved away: it takes no new ones either. */
  readonly evacuating?: boolean;
  readonly capacity: Resources;
  /** Flavor sizes already reserved on the host by marina's nodes (of every bay). */
  readonly allocated: Resources;
  readonly overcommit: { readonly cpu: number; readonly memory: number };
  /**
   * How far the host's nodes reach over the aggregate's network mode: `host` (each host NATs its own
   * bridges: a bay stays on one host), `aggregate` (a network every host of the aggregate is on) or
   * `routed` (the hosts route each other's bridges: any host of such an aggregate). Default routed.
   */
  readonly networkReach?: NetworkReach;
}

export type NetworkReach = 'host' | 'aggregate' | 'routed';

export interface PlacementRequest {
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly aggregateSelector?: LabelSelector;
  readonly flavor: Resources & { readonly diskBytes: number };
}

/** One node to place: its index in the bay and its swarm role. */
export interface NodeToPlace {
  readonly index: number;
  readonly role: NodeRole;
}

/** Where the bay's existing nodes run, so new ones spread, managers avoid each other and all can meet. */
export interface BayFootprint {
  readonly nodesByHost: ReadonlyMap<string, number>;
  readonly managersByHost: ReadonlyMap<string, number>;
}

export interface Placement {
  readonly index: number;
  readonly role: NodeRole;
  readonly aggregate: string;
  readonly host: string;
}

/** Why one host cannot take a node: a CamelCase reason and a sentence for people. */
export interface Rejection {
  readonly aggregate: string;
  readonly host: string;
  readonly reason: string;
  readonly message: string;
  /** What a tenant may read beside the reason when the message is kept from it. */
  readonly code?: string;
}

export interface Unschedulable {
  readonly index: number;
  readonly role: NodeRole;
  readonly rejections: readonly Rejection[];
}

export interface ScheduleResult {
  readonly placements: readonly Placement[];
  /** Nodes no host could take, with every host's reason; empty when all were placed. */
  readonly unschedulable: readonly Unschedulable[];
}

export const hostKey = (aggregate: string, host: string): string => `${aggregate}/${host}`;
