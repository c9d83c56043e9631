// The swarm layer's public surface: dockerode over mutual TLS to a node's dockerd, swarm membership,
// node operations, usage and swarm-CA rotation, plus the pure helpers the bay controller plans with.
export { dockerClient, DOCKER_TLS_PORT } from './client.js';
export type { DockerClient, DockerClientOptions } from './client.js';
export { SwarmError } from './errors.js';
export type { SwarmErrorCode, SwarmErrorContext } from './errors.js';
export { waitForDocker } from './wait.js';
export type { DockerdVersion } from './wait.js';
export { readLocalSwarmState, toLocalSwarmState } from './local-state.js';
export type { LocalSwarmState } from './local-state.js';
export type { SwarmMembership } from './membership.js';
export { initSwarm } from './init.js';
export type { SwarmInitOptions } from './init.js';
export { joinSwarm, joinTokens, sharesManager } from './join.js';
export type { JoinTokens, SwarmJoinRequest } from './join.js';
export { SWARM_PORT, withSwarmPort } from './addresses.js';
export { listSwarmNodes, inspectSwarmNode } from './nodes.js';
export { toSwarmNode, isSchedulable } from './node-mapping.js';
export type { SwarmNode } from './node-mapping.js';
export { setAvailability, promote, demote, updateNodeSpec } from './node-spec.js';
export { drainNode, runningTasksByService, waitForPlacedTasksRunning, waitForRunningTasksAtLeast } from './drain.js';
export { removeNode } from './remove-node.js';
export type { RemoveNodeOptions } from './remove-node.js';
export {
  VALID_MANAGER_COUNTS,
  isValidManagerCount,
  quorumSize,
  managersToTolerate,
  quorumStatus,
  takeDownVerdict,
  managerCountProblem,
  nextManagerToPromote,
} from './quorum.js';
export type { ManagerCount, QuorumStatus, TakeDownVerdict } from './quorum.js';
export { toSwarmTask, holdsReservation, awaitsPlacement, waitsForRoom, isOnNode } from './tasks.js';
export type { SwarmTask } from './tasks.js';
export { aggregateUsage, percent } from './reservations.js';
export type { Resources, NodeUsage, SwarmUsage, UsageOptions } from './reservations.js';
export { usage } from './usage.js';
export { rotateSwarmCa, swarmCaRotationDone } from './ca-rotation.js';
export { caRotationStatus } from './ca-convergence.js';
export type { CaRotationStatus, LaggingNode } from './ca-convergence.js';
export { dockerdFiles, daemonJson, DOCKERD_PATHS, SYSTEMD_DROP_IN } from './dockerd-files.js';
export type { DockerdFile, DockerdTlsMaterial } from './dockerd-files.js';
export { readServedCertificate } from './served-certificate.js';
export type { ServedCertificateRequest } from './served-certificate.js';
export { bindNode, pushDockerdFiles, restartDockerd, applyDockerdTls } from './node-setup.js';
export { ensureEncryptedOverlay, ENCRYPTED_OVERLAY, removeIngressNetwork } from './networks.js';
export type { NodeAccess, NodeHost, NodeExecResult } from './node-setup.js';
export type * from './api-types.js';
