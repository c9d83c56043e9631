// The host layer's public surface: controllers and the CLI import from here, not from lxd/.
export type { EnsureOptions, HostProvider } from './provider.js';
export type * from './types.js';
export * from './errors.js';
export { createHostProvider } from './factory.js';
export type { HostProviderOptions, ProviderKind } from './factory.js';
export { credentialsFromPem, credentialsFromSecretData, InvalidCredentialsError, SECRET_KEYS } from './credentials.js';
export type { SecretData, TlsHostCredentials } from './credentials.js';
export { parseEndpoint, formatEndpoint, InvalidEndpointError } from './endpoint.js';
export type { HostEndpoint } from './endpoint.js';
export { certificateFingerprint, normalizeFingerprint } from './fingerprint.js';
export { OWNERSHIP_KEYS, matchesSelector } from './ownership.js';
export { waitForNodeAddress } from './wait.js';
export { KERNEL_FEATURES, KERNEL_FEATURE_PROBE, probeKernelFeatures } from './kernel-features.js';
export type { KernelFeature } from './kernel-features.js';
export { nodeDrift, describeDrift } from './drift.js';
export { bayBridgeName, nodeAddress, walledRanges } from './bay-network.js';
export type { WantedNodeSettings } from './drift.js';
export { SWARM_KERNEL_MODULES, DEFAULT_NODE_PROCESSES } from './lxd/node-config.js';
export { findLocalSocket } from './lxd/local-socket.js';
export { createLxdClient } from './lxd/connect.js';
export type { LxdClient } from './lxd/client.js';
export { trustClientCertificate, decodeTrustToken, redeemTrustToken } from './lxd/trust.js';
export type { TrustResult, TrustToken } from './lxd/trust.js';
// Simulated hosts and dockerds: the fleet benchmark and orchestration tests only (sim/README.md).
export { SimWorld, SimHostProvider } from './sim/index.js';
export type { SimWorldConfig, SimHostSpec, SimProviderOptions, SimDockerOptions } from './sim/index.js';
export type { HostFaultSpec, DockerFaultSpec, FaultHandle, CallCounts } from './sim/index.js';
