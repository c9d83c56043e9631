// Shared set-up for tests that need the real LXD host (hosts, swarm and bay e2e suites).
export { hostNetwork, incusTestHost, lxdTestHost } from './host.js';
export type { HostNetwork, LxdTestHost } from './host.js';
export { makeClientIdentity, trustedTestIdentity } from './certificates.js';
export type { ClientIdentity } from './certificates.js';
export { testNodeImage } from './image.js';
export { providerOver, TRANSPORTS } from './providers.js';
export type { TransportName } from './providers.js';
export {
  E2E_NAMESPACE,
  TEST_FLAVOR,
  sweepNodes,
  sweepStaleNodes,
  testBay,
  testNodeSpec,
  waitForDocker,
  waitForDockerInNode,
} from './nodes.js';
export {
  LxcCli,
  MARINA_KEYS,
  inNamespace,
  instanceNames,
  leftByCrashedRuns,
  lxcFor,
  marinaKeys,
  nodeIndex,
  ofBay,
  sweepBayNetworks,
  sweepInstances,
} from './lxc-cli.js';
export type { LxcBayNetwork, LxcInstance } from './lxc-cli.js';
