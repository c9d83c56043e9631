import { callDocker } from './call.js';
import type { DockerClient } from './client.js';
import { SwarmError } from './errors.js';

/**
 * The swarm's encrypted overlay network (a bay's spec.network.encryptOverlay): attachable, so that both
 * services and `docker run --network` containers can use it, with the `encrypted` option, which makes
 * the swarm carry its VXLAN traffic between nodes in IPsec ESP and rotate the keys itself.
 */

export const ENCRYPTED_OVERLAY = 'marina-encrypted';
const MANAGED_LABEL = 'marina.dev/managed-by';

interface NetworkSummary {
  readonly Id?: string;
  readonly Name: string;
  /** The swarm's routing-mesh network (`ingress` unless renamed). */
  readonly Ingress?: boolean;
  readonly Driver?: string;
  readonly Options?: Record<string, string> | null;
  readonly Labels?: Record<string, string> | null;
}

/** Creates the network on a manager when missing. Throws SwarmError when the name is taken by another network. */
export async function ensureEncryptedOverlay(manager: DockerClient): Promise<string> {
  const context = { operation: 'ensure-encrypted-overlay' };
  const listed = (await callDocker(manager, context, (docker) =>
    docker.listNetworks({ filters: { name: [ENCRYPTED_OVERLAY] } }),
  )) as NetworkSummary[];
  const existing = listed.find((n) => n.Name === ENCRYPTED_OVERLAY);
  if (existing) {
    if (existing.Driver !== 'overlay' || !('encrypted' in (existing.Options ?? {}))) {
      throw new SwarmError(
        'invalid-state',
        { address: manager.endpoint, ...context },
        `a network named ${ENCRYPTED_OVERLAY} exists and is not an encrypted overlay; rename it to let marina make one`,
      );
    }
    return ENCRYPTED_OVERLAY;
  }
  await callDocker(manager, context, (docker) =>
    docker.createNetwork({
      Name: ENCRYPTED_OVERLAY,
      Driver: 'overlay',
      Attachable: true,
      CheckDuplicate: true,
      Options: { encrypted: '' },
      Labels: { [MANAGED_LABEL]: 'marina' },
    }),
  );
  return ENCRYPTED_OVERLAY;
}

/**
 * Removes the swarm's ingress network, the routing mesh's: for a swarm whose founding node's kernel has
 * no IPVS, where the mesh cannot work. Docker then refuses a port published in ingress mode, saying
 * "service needs ingress network, but no ingress network is present", instead of accepting one nothing
 * can reach; and no node builds the mesh's sandbox as it joins. Returns whether there was one.
 */
export async function removeIngressNetwork(manager: DockerClient): Promise<boolean> {
  const context = { operation: 'remove-ingress-network' };
  const listed = (await callDocker(manager, context, (docker) => docker.listNetworks())) as NetworkSummary[];
  const ingress = listed.find((n) => n.Ingress === true);
  if (!ingress) return false;
  await callDocker(manager, context, (docker) => docker.getNetwork(ingress.Id ?? ingress.Name).remove());
  return true;
}
