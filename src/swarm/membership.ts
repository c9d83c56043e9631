/** What initSwarm and joinSwarm report about the node they were called on. */
export interface SwarmMembership {
  readonly nodeId: string;
  readonly isManager: boolean;
  /** Known on managers only. */
  readonly clusterId: string | undefined;
  /** false: the node already was a member and nothing was done (the call is idempotent). */
  readonly changed: boolean;
}
