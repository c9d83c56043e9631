import type { WireNode, WireSwarm } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { caRotationStatus, type CaRotationStatus } from './ca-convergence.js';
import { SwarmError } from './errors.js';
import { retryOnVersionConflict } from './version-conflict.js';

/**
 * Starts a rotation of the swarm's own CA (the one that secures node-to-node traffic on 2377; it is
 * separate from the dockerd API CA of src/pki): what `docker swarm ca --rotate` does, raising
 * `Spec.CAConfig.ForceRotate`. The complete spec is sent back with the object version, as dockerd
 * requires. Join tokens change with the root: read them again afterwards. Returns the new ForceRotate.
 */
export function rotateSwarmCa(manager: DockerClient): Promise<number> {
  const operation = 'rotate-swarm-ca';
  return retryOnVersionConflict(async () => {
    const swarm = await inspectSwarm(manager, operation);
    const spec = swarm.Spec ?? {};
    const forceRotate = (spec.CAConfig?.ForceRotate ?? 0) + 1;
    await callDocker(manager, { operation }, (docker) =>
      docker.swarmUpdate({
        _query: { version: swarm.Version?.Index ?? 0 },
        _body: { ...spec, CAConfig: { ...spec.CAConfig, ForceRotate: forceRotate } },
      }),
    );
    return forceRotate;
  });
}

/** Where a swarm CA rotation stands; poll it until `done`. */
export async function swarmCaRotationDone(manager: DockerClient): Promise<CaRotationStatus> {
  const operation = 'swarm-ca-rotation-status';
  const [swarm, nodes] = await Promise.all([
    inspectSwarm(manager, operation),
    callDocker(manager, { operation }, (docker) => docker.listNodes()) as Promise<WireNode[]>,
  ]);
  return caRotationStatus(swarm, nodes);
}

async function inspectSwarm(manager: DockerClient, operation: string): Promise<WireSwarm> {
  const swarm = (await callDocker(manager, { operation }, (docker) => docker.swarmInspect())) as WireSwarm;
  if (swarm.Spec === undefined) throw new SwarmError('api', { address: manager.endpoint, operation }, 'the swarm inspect answer holds no spec');
  return swarm;
}
