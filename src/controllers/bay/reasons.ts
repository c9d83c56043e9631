/**
 * Every reason a Bay's conditions and Events give, by name. A reason is CamelCase and stable: alerts
 * and scripts match on it; the message beside it is for people.
 */
export const REASONS = {
  // Ready
  bayReady: 'BayReady',
  credentialsPending: 'CredentialsPending',
  deletionBlocked: 'DeletionBlocked',
  deleting: 'Deleting',
  // CertificatesReady
  issued: 'Issued',
  certificatesFailed: 'CertificatesFailed',
  secretConflict: 'SecretConflict',
  rotating: 'Rotating',
  rolloutFailed: 'RolloutFailed',
  swarmCaRotationFailed: 'SwarmCaRotationFailed',
  // NodesReady
  allNodesReady: 'AllNodesReady',
  provisioning: 'Provisioning',
  nodeNotReady: 'NodeNotReady',
  nodeLost: 'NodeLost',
  hostUnreachable: 'HostUnreachable',
  unschedulable: 'Unschedulable',
  flavorTooLarge: 'FlavorTooLarge',
  quotaExceeded: 'QuotaExceeded',
  nodeNameConflict: 'NodeNameConflict',
  nodeConfigRejected: 'NodeConfigRejected',
  nodeStartFailed: 'NodeStartFailed',
  dockerdFailed: 'DockerdFailed',
  tlsUnanswered: 'NodeTlsUnanswered',
  bayNetworkConflict: 'BayNetworkConflict',
  bayNetworkRejected: 'BayNetworkRejected',
  subnetPoolFull: 'SubnetPoolFull',
  baySubnetFull: 'BaySubnetFull',
  // SwarmReady
  swarmFormed: 'SwarmFormed',
  swarmForming: 'SwarmForming',
  swarmFailed: 'SwarmFailed',
  overlayFailed: 'EncryptedOverlayFailed',
  overlayUnsupported: 'EncryptedOverlayUnsupported',
  overlayPending: 'EncryptedOverlayPending',
  // NodesReplaced
  replacing: 'Replacing',
  replacementPaused: 'ReplacementPaused',
  replacementFailed: 'ReplacementFailed',
  allReplaced: 'AllReplaced',
  // NodesUpToDate
  upToDate: 'UpToDate',
  upgrading: 'Upgrading',
  upgradeAvailable: 'UpgradeAvailable',
  // Autoscaling
  steady: 'Steady',
  scaledUp: 'ScaledUp',
  coolingDown: 'CoolingDown',
  autoscaleBlocked: 'AutoscaleBlocked',
  autoscaleWaiting: 'UsageUnknown',
  // Reconciling and Stalled (kstatus)
  asExpected: 'AsExpected',
  // Any phase
  apiConflict: 'ApiConflict',
  apiError: 'ApiError',
  internalError: 'InternalError',
} as const;

export type Reason = (typeof REASONS)[keyof typeof REASONS];

/**
 * Reasons only a person can cure: waiting longer changes nothing. The bay says so with `Stalled`
 * (kstatus), and `marina wait` stops at once.
 */
export const NEEDS_A_PERSON: ReadonlySet<string> = new Set([
  REASONS.flavorTooLarge,
  REASONS.nodeNameConflict,
  REASONS.nodeConfigRejected,
  REASONS.secretConflict,
  REASONS.rolloutFailed,
  REASONS.bayNetworkConflict,
  REASONS.bayNetworkRejected,
  REASONS.baySubnetFull,
  REASONS.overlayUnsupported,
]);
