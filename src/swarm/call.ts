import type Docker from 'dockerode';
import type { DockerClient } from './client.js';
import { toSwarmError } from './classify.js';

export interface CallContext {
  readonly operation: string;
  readonly nodeId?: string;
}

/** Runs one dockerode call and turns whatever it rejects with into a SwarmError naming this dockerd. */
export async function callDocker<T>(client: DockerClient, context: CallContext, run: (docker: Docker) => Promise<T>): Promise<T> {
  try {
    return await run(client.docker);
  } catch (error) {
    throw toSwarmError(error, { address: client.endpoint, ...context });
  }
}
