import type { DockerClient } from './client.js';
import { dockerdFiles, type DockerdFile, type DockerdTlsMaterial } from './dockerd-files.js';
import { SwarmError } from './errors.js';
import { waitForDocker, type DockerdVersion } from './wait.js';

/**
 * Putting dockerd's TLS configuration in place on a node and (re)starting it. The node is reached
 * through its host (LXD file push and exec), not through dockerd, which may not be listening yet.
 */

export interface NodeExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What this needs from the node's host; bindNode adapts a HostProvider. */
export interface NodeAccess {
  readonly name: string;
  pushFiles(files: readonly DockerdFile[]): Promise<void>;
  exec(command: readonly string[], options?: { readonly timeoutMs?: number }): Promise<NodeExecResult>;
}

/** The HostProvider methods used here (structural: the swarm layer does not import the hosts layer). */
export interface NodeHost {
  pushFiles(name: string, files: readonly DockerdFile[]): Promise<void>;
  exec(name: string, command: readonly string[], options?: { readonly timeoutMs?: number }): Promise<NodeExecResult>;
}

export function bindNode(host: NodeHost, name: string): NodeAccess {
  return {
    name,
    pushFiles: (files) => host.pushFiles(name, files),
    exec: (command, options) => host.exec(name, command, options),
  };
}

/** Pushes the files in order (certificates before the configuration that names them). */
export function pushDockerdFiles(node: NodeAccess, files: readonly DockerdFile[]): Promise<void> {
  return node.pushFiles(files);
}

const RESTART_TIMEOUT_MS = 120_000;

/**
 * Restarts dockerd so it reads new certificates (it does not reload TLS on SIGHUP). In swarm mode
 * this stops the node's containers (live-restore is not allowed), so callers drain the node first.
 * On failure the error carries the tail of dockerd's journal, the usual place for the reason.
 */
export async function restartDockerd(node: NodeAccess, client: DockerClient): Promise<void> {
  for (const command of [
    ['systemctl', 'daemon-reload'],
    ['systemctl', 'restart', 'docker.service'],
  ]) {
    const result = await node.exec(command, { timeoutMs: RESTART_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      const journal = await dockerJournal(node);
      throw new SwarmError(
        'node-setup',
        { address: client.endpoint, operation: 'restart-dockerd' },
        `${command.join(' ')} in node ${node.name} exited ${result.exitCode}: ${result.stderr.trim()}${journal}`,
      );
    }
  }
}

async function dockerJournal(node: NodeAccess): Promise<string> {
  const result = await node.exec(['journalctl', '--unit', 'docker.service', '--lines', '15', '--no-pager', '--output', 'cat']).catch(() => undefined);
  return result?.exitCode === 0 && result.stdout.trim() !== '' ? `\n${result.stdout.trim()}` : '';
}

/**
 * The whole step: push certificates and configuration, restart dockerd, wait until it answers over
 * TLS with the new certificate. For a node that has not booted yet, push the files and start the node
 * instead; waitForDocker alone then confirms it.
 */
export async function applyDockerdTls(node: NodeAccess, client: DockerClient, material: DockerdTlsMaterial, deadline: Date): Promise<DockerdVersion> {
  await pushDockerdFiles(node, dockerdFiles(material));
  await restartDockerd(node, client);
  return waitForDocker(client, deadline);
}
