import type { WireNode, WireSwarm, WireTlsInfo } from './api-types.js';

/**
 * Whether a swarm CA rotation has finished, decided the way `docker swarm ca --rotate` does
 * (docker/cli progress/root_rotation.go): the cluster no longer reports a rotation in progress, and
 * every node holds a certificate from the cluster's current issuer and trusts its current root.
 * A node that is down cannot renew, so the rotation waits for it: lagging names such nodes.
 */

export interface LaggingNode {
  readonly nodeId: string;
  readonly hostname: string;
  readonly state: string;
}

export interface CaRotationStatus {
  readonly done: boolean;
  /** The cluster still reports RootRotationInProgress. */
  readonly inProgress: boolean;
  readonly lagging: readonly LaggingNode[];
}

export function caRotationStatus(swarm: WireSwarm, nodes: readonly WireNode[]): CaRotationStatus {
  const inProgress = swarm.RootRotationInProgress === true;
  const cluster = swarm.TLSInfo ?? {};
  const lagging = nodes
    .filter((node) => !sameTrust(node.Description?.TLSInfo ?? {}, cluster))
    .map((node) => ({ nodeId: node.ID ?? '', hostname: node.Description?.Hostname ?? '', state: node.Status?.State ?? 'unknown' }));
  return { done: !inProgress && lagging.length === 0, inProgress, lagging };
}

function sameTrust(node: WireTlsInfo, cluster: WireTlsInfo): boolean {
  return (
    node.TrustRoot === cluster.TrustRoot &&
    node.CertIssuerSubject === cluster.CertIssuerSubject &&
    node.CertIssuerPublicKey === cluster.CertIssuerPublicKey
  );
}
