import {
  SwarmError,
  initSwarm,
  joinSwarm,
  joinTokens,
  listSwarmNodes,
  promote,
  readLocalSwarmState,
  removeIngressNetwork,
  removeNode,
  type DockerClient,
  type LocalSwarmState,
  type SwarmNode,
} from '../../swarm/index.js';
import type { NodeRole } from '../../scheduler/types.js';

/** A client for the dockerd at an address, with the bay's TLS material already bound. */
export type ConnectNode = (address: string) => DockerClient;

/**
 * Whether the kernel under a node carries the swarm's routing mesh (IPVS); undefined when that could not
 * be told. Never rejects.
 */
export type RoutingMeshProbe = (node: string) => Promise<boolean | undefined>;

/**
 * Founds the bay's swarm on `founder`; returns whether it was founded now. On a kernel without IPVS the
 * routing mesh cannot work, so the new swarm's ingress network is removed before anyone joins (see
 * removeIngressNetwork): a node then comes up without building the mesh's sandbox, about half a CPU
 * second less each. The kernel is asked while the swarm is made. Only at founding, on the swarm's
 * first manager: after a crash in between, or when the kernel could not be asked, the swarm keeps
 * Docker's default.
 */
export async function foundSwarm(
  connect: ConnectNode,
  founder: { readonly name: string; readonly address: string },
  routingMesh: RoutingMeshProbe | undefined,
): Promise<boolean> {
  const mesh = routingMesh ? routingMesh(founder.name) : Promise.resolve(undefined);
  const { changed } = await initSwarm(connect(founder.address), founder.address);
  if (changed && (await mesh) === false) await removeIngressNetwork(connect(founder.address));
  return changed;
}

export interface SwarmOptions {
  /** Whether the founding manager's kernel carries the routing mesh, when the swarm is founded here. */
  readonly routingMesh?: RoutingMeshProbe;
  /** The manager status names as the bay's endpoint: tried first when every node was Ready. */
  readonly anchorAddress?: string;
  /** Every live node was a Ready member at the last reconcile: one listing may confirm it all. */
  readonly settled?: boolean;
  /** Told how long each join took. */
  readonly onJoined?: (seconds: number) => void;
}

/** A node whose dockerd answers marina over TLS: a candidate swarm member. */
export interface LiveNode {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly address: string;
}

export interface SwarmFacts {
  /** The manager marina spoke to (the lowest-index manager that is a member). */
  readonly anchor?: LiveNode;
  /** Swarm members by hostname (= node name), after joins and clean-up. */
  readonly members: ReadonlyMap<string, SwarmNode>;
  /** Members removed this time: nodes confirmed gone, and down duplicates of re-created nodes. */
  readonly removed: readonly string[];
  readonly joined: readonly string[];
  readonly initialised: boolean;
  /** Why the swarm could not be formed at all. */
  readonly error?: string;
  /** Smaller troubles, retried on the next reconcile (a down manager not demoted yet, ...). */
  readonly problems: readonly string[];
}

/**
 * Phase 5: one swarm across the bay's live nodes. The lowest-index manager initialises it; others join
 * with the token of their role (managers one at a time, so raft grows by one member at a time);
 * members of nodes that are gone for good are demoted and removed once they are down. Every step is
 * idempotent: a member is left as it is. A settled bay costs one listing on its anchor manager.
 */
export async function ensureSwarm(
  connect: ConnectNode,
  live: readonly LiveNode[],
  liveNames: ReadonlySet<string>,
  options: SwarmOptions = {},
): Promise<SwarmFacts> {
  if (options.settled) {
    const confirmed = await confirmSettled(connect, live, liveNames, options.anchorAddress);
    if (confirmed) return confirmed;
  }
  // A node whose dockerd does not answer now (down, restarting) is left out of this pass, not fatal to
  // it: the rollout repairs such a node, and the others keep their swarm.
  const states = new Map<string, LocalSwarmState>();
  const unanswered: string[] = [];
  await Promise.all(
    live.map(async (n) => {
      try {
        states.set(n.name, await readLocalSwarmState(connect(n.address)));
      } catch (err) {
        unanswered.push(`${n.name} did not answer: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  if (states.size === 0 && unanswered.length > 0)
    throw new SwarmError('unreachable', { address: live[0]!.address, operation: 'swarm-state' }, unanswered.join('; '));
  const byIndex = [...live].filter((n) => states.has(n.name)).sort((a, b) => a.index - b.index);
  let anchor = byIndex.find((n) => states.get(n.name)?.state === 'active' && states.get(n.name)?.isManager);
  let initialised = false;
  if (!anchor) {
    const first = byIndex.find((n) => n.role === 'manager');
    if (!first)
      return {
        members: new Map(),
        removed: [],
        joined: [],
        initialised,
        error: 'no manager node answers yet',
        problems: [],
      };
    await foundSwarm(connect, first, options.routingMesh);
    anchor = first;
    initialised = true;
  }
  const manager = connect(anchor.address);
  const joined = await joinMissing(connect, byIndex, states, anchor, manager, options.onJoined);
  const listed = await listSwarmNodes(manager);
  const promoted = await promoteManagers(manager, listed, byIndex);
  const { removed, problems } = await removeGoneMembers(manager, listed, liveNames);
  // One listing serves the decisions above; a second is needed only when they changed membership.
  const final = promoted > 0 || removed.length > 0 ? await listSwarmNodes(manager) : listed;
  const members = new Map(final.map((m) => [m.hostname, m]));
  return { anchor, members, removed, joined, initialised, problems: [...problems, ...unanswered] };
}

/**
 * The steady state, checked with one call: every live node a ready member in its role, and no down
 * member left to clean up. Anything else (or the anchor not answering) takes the full path.
 */
async function confirmSettled(
  connect: ConnectNode,
  live: readonly LiveNode[],
  liveNames: ReadonlySet<string>,
  anchorAddress: string | undefined,
): Promise<SwarmFacts | undefined> {
  const anchor = live.find((n) => n.role === 'manager' && n.address === anchorAddress);
  if (!anchor) return undefined;
  let listed: SwarmNode[];
  try {
    listed = await listSwarmNodes(connect(anchor.address));
  } catch {
    return undefined;
  }
  if (listed.some((m) => m.state !== 'ready' || !liveNames.has(m.hostname))) return undefined;
  const members = new Map(listed.map((m) => [m.hostname, m]));
  if (members.size !== listed.length || !live.every((n) => members.get(n.name)?.role === n.role)) return undefined;
  return { anchor, members, removed: [], joined: [], initialised: false, problems: [] };
}

async function joinMissing(
  connect: ConnectNode,
  nodes: readonly LiveNode[],
  states: ReadonlyMap<string, LocalSwarmState>,
  anchor: LiveNode,
  manager: DockerClient,
  onJoined: ((seconds: number) => void) | undefined,
): Promise<string[]> {
  const missing = nodes.filter((n) => n !== anchor && states.get(n.name)?.state !== 'active');
  if (missing.length === 0) return [];
  const tokens = await joinTokens(manager);
  const join = async (n: LiveNode): Promise<void> => {
    const started = performance.now();
    await joinSwarm(connect(n.address), {
      advertiseAddr: n.address,
      remoteAddrs: [anchor.address],
      token: n.role === 'manager' ? tokens.manager : tokens.worker,
    });
    onJoined?.((performance.now() - started) / 1000);
  };
  // Raft grows by one manager at a time; workers are not voters and join beside them, all at once.
  const managersOneByOne = async (): Promise<void> => {
    for (const n of missing.filter((m) => m.role === 'manager')) await join(n);
  };
  await Promise.all([managersOneByOne(), ...missing.filter((m) => m.role === 'worker').map(join)]);
  return missing.map((n) => n.name);
}

/** Workers the plan made managers (spec.managers was raised) are promoted in the swarm; returns how many. */
async function promoteManagers(
  manager: DockerClient,
  members: readonly SwarmNode[],
  nodes: readonly LiveNode[],
): Promise<number> {
  const wanted = new Set(nodes.filter((n) => n.role === 'manager').map((n) => n.name));
  const toPromote = members.filter((m) => wanted.has(m.hostname) && m.role === 'worker' && m.state === 'ready');
  for (const member of toPromote) await promote(manager, member.id);
  return toPromote.length;
}

/**
 * Removes members that no live node stands behind and that the swarm sees as down: nodes confirmed gone
 * (their replacement joined under another name) and the old entry of a node that re-joined. A member
 * that is still up is never removed.
 */
async function removeGoneMembers(
  manager: DockerClient,
  members: readonly SwarmNode[],
  liveNames: ReadonlySet<string>,
): Promise<{ removed: string[]; problems: string[] }> {
  const newestUp = new Map<string, SwarmNode>();
  for (const m of members) if (m.state === 'ready') newestUp.set(m.hostname, m);
  const removed: string[] = [];
  const problems: string[] = [];
  for (const m of members) {
    if (m.state !== 'down') continue;
    const gone = !liveNames.has(m.hostname);
    const duplicate = newestUp.has(m.hostname);
    if (!gone && !duplicate) continue;
    try {
      if (await removeNode(manager, m.id)) removed.push(m.hostname);
    } catch (err) {
      // A down manager that cannot be demoted yet is retried on the next reconcile.
      problems.push(
        `swarm member ${m.hostname} is down but could not be removed yet: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return { removed, problems };
}
