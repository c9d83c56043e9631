// The generic controller runtime: nothing in here knows about bays.
export { JitteredBackoff, PerKeyBackoff, exponentialDelay, type BackoffPolicy } from './backoff.js';
export { findCondition, formatTime, isTrue, setCondition, type Condition, type ConditionStatus, type ConditionUpdate } from './conditions.js';
export { Controller, type ControllerOptions, type KeyMapper, type RelatedWatch, type TerminalErrorHook } from './controller.js';
export {
  ApiError,
  TerminalError,
  TransportError,
  WatchClosedError,
  WatchStalledError,
  isConflict,
  isGone,
  isNotFound,
  type KubeStatus,
} from './errors.js';
export { EVENT_TYPE, EventRecorder, referenceTo, type EventInput, type EventRecorderOptions, type ObjectReference } from './events.js';
export { addFinalizer, addFinalizerPatch, hasFinalizer, removeFinalizer, removeFinalizerPatch, type JsonPatchOp } from './finalizers.js';
export { HealthServer, type HealthCheck } from './health-server.js';
export { Informer, type EventHandler, type InformerScope } from './informer.js';
export { jsonEqual, mergePatch } from './json.js';
export { KubeClient, type KubeClientOptions, type ListOptions, type PatchType, type WatchOptions } from './kube-client.js';
export { LEASE_TYPE, claimLease, releasedLease, type Lease, type LeaseSpec } from './lease.js';
export { LeaderElector, type ElectorState, type LeaderElectionTiming, type LeaderElectorOptions } from './leader-election.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { Manager, type LeaderElectionConfig, type ManagedControllerOptions, type ManagerOptions } from './manager.js';
export { RuntimeMetrics, type ControllerMetrics } from './metrics.js';
export { formatMicroTime } from './micro-time.js';
export { controllerKeyOf, controllerOf, controllerReference, withOwnerReference } from './owner-refs.js';
export {
  annotationsChanged,
  anyOf,
  deletionOrFinalizerRemoved,
  generationChanged,
  labelsChanged,
  specOrMetadataChanged,
  type UpdatePredicate,
} from './predicates.js';
export type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from './reconcile.js';
export { Reflector, type ReflectorStats, type ReflectorTuning } from './reflector.js';
export {
  apiVersionOf,
  isNewerVersion,
  objectKey,
  parseKey,
  type KubeList,
  type KubeObject,
  type ObjectMeta,
  type ObjectName,
  type OwnerReference,
  type ResourceType,
} from './resource.js';
export { patchStatus, type WithStatus } from './status.js';
export { Store, diffSnapshot, type ReplaceDelta } from './store.js';
export { WorkQueue, type WorkQueueMetrics, type WorkQueueOptions } from './workqueue.js';
