// Simulated hosts and dockerds, for the fleet benchmark and orchestration tests (see README.md).
export { SimWorld } from './world.js';
export type { CallScope, ForeignInstance, SimDockerClient } from './world.js';
export type { SimHost } from './hosts.js';
export { SimHostProvider } from './provider.js';
export type { SimProviderOptions } from './provider.js';
export { SimModem } from './docker-engine.js';
export type { SimDockerOptions } from './docker-engine.js';
export { DEFAULT_DOCKER_CONFIG, DEFAULT_HOST_SPEC, DEFAULT_LATENCY, DEFAULT_NETWORK_CONFIG } from './config.js';
export type {
  LatencyClass,
  LatencyConfig,
  LatencySpec,
  SimDockerConfig,
  SimHostSpec,
  SimNetworkConfig,
  SimWorldConfig,
} from './config.js';
export type { DockerFaultKind, DockerFaultSpec, FaultHandle, HostFaultKind, HostFaultSpec } from './faults.js';
export type { CallCounts, HostCallCounts } from './counters.js';
export type { SimFile, SimInstance } from './instance.js';
export { SimHostRefusal } from './refusal.js';
export { WorldFileError } from './persistence.js';
