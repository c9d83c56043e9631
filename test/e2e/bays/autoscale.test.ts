import { describe, expect, it } from 'vitest';
import { getBay, type BayView } from '../../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials, type DockerCli } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { waitForServiceRunning } from '../../support/bays/prober.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../../support/bays/workload-image.js';
import { mustKubectl } from '../../support/kubectl.js';
import { waitFor } from '../../support/processes.js';

const env = useBayTestEnvironment('e2e-auto');
const { kubectl, kubeconfig } = env;
const NS = env.namespace;

function autoscaledBay(name: string, nodes: number, maxNodes: number): string {
  return `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${name}, namespace: ${NS}}
spec:
  nodes: ${nodes}
  flavor: {cpu: 1, memory: 512Mi, disk: 2Gi}
  aggregateSelector: {matchLabels: {suite: e2e}}
  autoscale: {enabled: true, maxNodes: ${maxNodes}, thresholdPercent: 80, cooldown: 1m}
`;
}

async function readyBayWithDocker(name: string, nodes: number, maxNodes: number): Promise<{ bay: BayView; docker: DockerCli }> {
  await mustKubectl(kubectl, ['apply', '-f', '-'], { input: autoscaledBay(name, nodes, maxNodes) });
  const bay = await env.waitReady(name);
  const docker = dockerWithBundle(await fetchCredentials(kubeconfig, name, NS));
  await loadImageEverywhere(docker, bay);
  return { bay, docker };
}

/** Every node that may run a task needs the workload image: no registry is reachable. */
async function loadImageEverywhere(docker: DockerCli, bay: BayView): Promise<void> {
  for (const n of bay.status?.nodes ?? []) await loadWorkloadImage(docker, n.address!);
}

async function mustDocker(docker: DockerCli, args: readonly string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sleepService = (name: string, replicas: number, reserve: string[]): string[] => [
  'service', 'create', '--detach', '--name', name, '--replicas', String(replicas), ...reserve, WORKLOAD_IMAGE, 'sleep', '1000000',
];

async function readyNodes(name: string, count: number): Promise<BayView> {
  return waitFor(`${name} with ${count} Ready nodes`, async () => {
    const bay = await getBay(kubectl, NS, name);
    return bay.status?.phase === 'Ready' && bay.status.readyNodes === count ? bay : undefined;
  }, 240_000, 1_000);
}

async function eventNotes(name: string, reason: string): Promise<string> {
  return mustKubectl(kubectl, ['get', 'events', '-n', NS, '--field-selector', `reason=${reason},involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].note}{.items[*].message}']);
}

describe('grow-only autoscaling (real LXD, dockerd, swarm and docker CLI)', () => {
  it('memory reservations past 80% grow the bay by the nodes it needs; removing the service removes no node', async () => {
    const { docker } = await readyBayWithDocker('mem', 2, 4);
    // 4 × 220 MiB of 2 × 512 MiB = 86%: under 80% takes ⌈880 / 409.6⌉ = 3 nodes.
    await mustDocker(docker, sleepService('hungry', 4, ['--reserve-memory', '220M']));
    await waitForServiceRunning(docker, 'hungry', 4);
    const grown = await readyNodes('mem', 3);
    expect(grown.status?.autoscale?.target).toBe(3);
    expect(await eventNotes('mem', 'ScaledUp')).toContain('reserved memory');
    // The same reservations, now over three nodes: 57%.
    await waitFor('usage over three nodes', async () => ((await getBay(kubectl, NS, 'mem')).status?.usage?.memoryPercent === 57 ? true : undefined), 30_000, 1_000);

    await mustDocker(docker, ['service', 'rm', 'hungry']);
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const after = await getBay(kubectl, NS, 'mem');
    expect(after.status?.nodes).toHaveLength(3);
    expect(after.status?.autoscale?.target).toBe(3);
    expect(after.status?.readyNodes).toBe(3);
  });

  it('tasks pending for lack of room grow the bay at once, and run on the new node', async () => {
    const { docker } = await readyBayWithDocker('room', 1, 2);
    // Each node has one CPU: the second 0.6-CPU task has no room, though 60% is under the threshold.
    await mustDocker(docker, sleepService('wide', 2, ['--reserve-cpu', '0.6']));
    const grown = await readyNodes('room', 2);
    expect(await eventNotes('room', 'ScaledUp')).toContain('pending for lack of room');
    await loadImageEverywhere(docker, grown);
    await waitForServiceRunning(docker, 'wide', 2);
    const nodesOfTasks = (await mustDocker(docker, ['service', 'ps', 'wide', '--filter', 'desired-state=running', '--format', '{{.Node}}'])).trim().split('\n');
    expect(new Set(nodesOfTasks).size).toBe(2);
  });

  it('at maxNodes the bay stops growing and says why; the tasks stay pending', async () => {
    const docker = dockerWithBundle(await fetchCredentials(kubeconfig, 'room', NS));
    await mustDocker(docker, ['service', 'scale', '--detach', 'wide=3']);
    const blocked = await waitFor('AutoscaleBlocked', async () => {
      const bay = await getBay(kubectl, NS, 'room');
      const c = bay.status?.conditions?.find((x) => x.type === 'Autoscaling');
      return c?.reason === 'AutoscaleBlocked' ? { bay, c } : undefined;
    }, 120_000, 1_000);
    expect(blocked.c.status).toBe('False');
    expect(blocked.c.message).toContain('maxNodes (2)');
    expect(blocked.bay.status?.nodes).toHaveLength(2);
    const pending = await mustDocker(docker, ['service', 'ps', 'wide', '--no-trunc', '--filter', 'desired-state=running', '--format', '{{.CurrentState}} {{.Error}}']);
    expect(pending).toMatch(/Pending/);
    expect(pending).toMatch(/insufficient resources/);
  });
});
