import { describe, expect, it } from 'vitest';
import { getBay, type BayView } from '../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials, swarmNodes } from '../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../support/bays/environment.js';
import { freezeLxdDaemon, restartApiserver, restartLxdDaemon } from '../support/chaos/daemons.js';
import { bayFootprint, expectExactlyDeclared, type DeclaredBay } from '../support/chaos/footprint.js';
import { recordChaos } from '../support/chaos/record.js';
import { mustKubectl } from '../support/kubectl.js';
import { ofBay, type LxcInstance } from '../support/lxd/index.js';
import { waitFor } from '../support/processes.js';

const env = useBayTestEnvironment('chaos-faults');

/** Applies a 3-node bay and returns once its first instance exists on the host: mid-provisioning. */
async function bayBeingProvisioned(name: string): Promise<string> {
  await env.applyBay(name, { nodes: 3 });
  const uid = await waitFor(`${name}'s uid`, async () => (await getBay(env.kubectl, env.namespace, name)).metadata.uid || undefined, 30_000);
  await waitFor(`${name}'s first instance`, async () => ((await env.lxc.list()).some(ofBay(uid)) ? true : undefined), 120_000, 100);
  return uid;
}

/** The bay's CA as it is now: a fault must never make a bay start over with a new one. */
const caOf = async (uid: string): Promise<string> => (await bayFootprint(env, uid)).ca;

/** Each instance by name with its creation time: a node re-created behind the same name shows here. */
const births = (instances: readonly LxcInstance[]): Record<string, number> =>
  Object.fromEntries(instances.map((i) => [i.name, i.createdAt.getTime()]));

/** Polls the bay until `seen` holds of it; what the user saw at that moment. */
function bayWhen(name: string, what: string, seen: (bay: BayView) => boolean, timeoutMs = 90_000): Promise<BayView> {
  return waitFor(what, async () => {
    const bay = await getBay(env.kubectl, env.namespace, name);
    return seen(bay) ? bay : undefined;
  }, timeoutMs, 250);
}

/** The bay the faults after the first are tried on, as it was declared and first became Ready. */
let steady: DeclaredBay;

const condition = (bay: BayView, type: string) => bay.status?.conditions?.find((c) => c.type === type);

/**
 * The steady bay once it settled after a fault: every member Ready in the tenant's swarm, Ready in
 * status, exactly its nodes, and the very instances it had before (none re-created).
 */
async function expectSteadyAsBefore(before: Record<string, number>): Promise<void> {
  await everyMemberReady('steady', 3);
  await env.waitReady('steady');
  const settled = await expectExactlyDeclared(env, 'steady', steady);
  expect(births(settled.footprint.instances)).toEqual(before);
}

describe('faults in what a bay stands on: each converges, or says Degraded with a reason, and loses nothing', () => {
  it('the LXD daemon restarted while a 3-node bay is provisioned: Ready with exactly its 3 nodes and its CA', async () => {
    const uid = await bayBeingProvisioned('steady');
    await restartLxdDaemon();
    await env.waitReady('steady');
    steady = { uid, ca: await caOf(uid), nodes: 3 };
    await expectExactlyDeclared(env, 'steady', steady);
    recordChaos({ fault: 'LXD daemon restarted during provisioning', rounds: 1 });
  });

  it('the apiserver restarted while a 3-node bay is provisioned: Ready with exactly its 3 nodes and its CA', async () => {
    const uid = await bayBeingProvisioned('through-apiserver');
    const ca = await waitFor('the CA', () => caOf(uid).then((c) => c || undefined), 30_000, 100);
    await restartApiserver();
    await env.waitReady('through-apiserver');
    await expectExactlyDeclared(env, 'through-apiserver', { uid, ca, nodes: 3 });
    await mustKubectl(env.kubectl, ['delete', 'bay', 'through-apiserver', '-n', env.namespace, '--timeout=180s']);
    recordChaos({ fault: 'kube-apiserver restarted during provisioning', rounds: 1 });
  });

  it('dockerd killed with SIGKILL inside the manager the endpoint names: the same nodes, Ready again', async () => {
    const bay = await getBay(env.kubectl, env.namespace, 'steady');
    const endpoint = bay.status!.endpoint!.replace(/^tcp:\/\/|:2376$/g, '');
    const manager = bay.status!.nodes!.find((n) => n.address === endpoint)!.name;
    const pidOf = async (): Promise<string> => (await env.lxc.exec(manager, ['pidof', 'dockerd'])).stdout.trim();
    const before = births((await bayFootprint(env, steady.uid)).instances);
    const killed = await pidOf();
    expect(killed).toMatch(/^\d+$/);
    await env.lxc.mustExec(manager, ['kill', '-KILL', killed]);
    await waitFor('a new dockerd', async () => {
      const now = await pidOf();
      return now !== '' && now !== killed ? now : undefined;
    }, 60_000, 250);
    // systemd starts dockerd again; the workers find their manager again by themselves.
    await expectSteadyAsBefore(before);
    recordChaos({ fault: 'dockerd killed (SIGKILL) in the endpoint manager', rounds: 1 });
  });

  it('a node stopped behind marina’s back: started again as it was, the same instance, and an Event says so', async () => {
    const bay = await getBay(env.kubectl, env.namespace, 'steady');
    const worker = bay.status!.nodes!.find((n) => n.role === 'worker')!.name;
    const before = births((await bayFootprint(env, steady.uid)).instances);
    await env.lxc.stop(worker, { force: true });
    const started = await waitFor('a NodeStarted Event', async () => {
      const notes = await mustKubectl(env.kubectl, ['get', 'events', '-n', env.namespace, '--field-selector', 'reason=NodeStarted', '-o', 'jsonpath={.items[*].message}']);
      return notes.includes(worker) ? notes : undefined;
    }, 90_000, 500);
    expect(started).toContain(`node ${worker} was found stopped (not by marina); started it again`);
    expect((await env.lxc.instance(worker))?.status).toBe('Running');
    await expectSteadyAsBefore(before);
    recordChaos({ fault: 'a node instance stopped behind marina’s back', rounds: 1 });
  });

  it('the host frozen for a minute: Degraded naming the host, nothing deleted, Ready with the same nodes after', async () => {
    const before = births((await bayFootprint(env, steady.uid)).instances);
    const docker = await readyMembers('steady');
    const during = await freezeLxdDaemon(60_000, async () => {
      const degraded = await bayWhen('steady', 'HostUnreachable', (b) => condition(b, 'Ready')?.reason === 'HostUnreachable');
      // The swarm does not depend on the host's daemon: the tenant's docker CLI still sees every node.
      return { degraded, members: await docker() };
    });
    expect(during.degraded.status?.phase).toBe('Degraded');
    expect(condition(during.degraded, 'Ready')?.message).toContain('localhost');
    expect(during.members).toBe(3);
    await expectSteadyAsBefore(before);
    recordChaos({ fault: 'the host unreachable (daemon frozen) for 60 s', rounds: 1 });
  });
});

/** Counts a bay's Ready swarm members through the tenant's bundle, without marina. */
async function readyMembers(bay: string): Promise<() => Promise<number>> {
  const docker = dockerWithBundle(await fetchCredentials(env.kubeconfig, bay, env.namespace));
  return async () => (await swarmNodes(docker)).filter((m) => m.status === 'Ready').length;
}

async function everyMemberReady(bay: string, members: number): Promise<void> {
  const count = await readyMembers(bay);
  await waitFor(`${members} Ready swarm members`, async () => ((await count().catch(() => 0)) === members ? true : undefined), 120_000, 500);
}
