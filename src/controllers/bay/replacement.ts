import type { Bay, BayNodeStatus } from '../../api/types.generated.js';
import type { HostProvider } from '../../hosts/index.js';
import type { ReconcileContext } from '../../runtime/reconcile.js';
import {
  demote,
  drainNode,
  listSwarmNodes,
  runningTasksByService,
  waitForRunningTasksAtLeast,
  type DockerClient,
  type SwarmNode,
} from '../../swarm/index.js';
import type { BayControllerDeps } from './deps.js';
import type { Discovery } from './discovery.js';
import { RetireError } from './failures.js';
import { hostKey } from './names.js';
import { markNodeState } from './rollout.js';
import type { DiscoveredNode, PlannedNode } from './plan.js';

/**
 * Replacing nodes, surge first (Cluster API's MachineDeployment with maxSurge 1, maxUnavailable 0): the
 * node to replace stays while a replacement of its role is made elsewhere by the ordinary grow path;
 * once every node that stays is a ready, active swarm member, the old one is drained, demoted if it is a
 * manager, deleted, and its swarm member removed. One node at a time, so the bay never has fewer ready
 * nodes than it declares and raft never loses a voter it needs. Causes: its host is evacuated, or (for a
 * bay that takes upgrades) its image is older than its aggregate's.
 */

/** Why a node is replaced. */
export interface Replacement {
  readonly node: string;
  readonly host: string;
  readonly why: string;
}

/** The annotation that asks for a rolling upgrade of a bay whose upgradePolicy is Manual. */
export const UPGRADE_NODES_ANNOTATION = 'marina.dev/upgrade-nodes';

/** The bay takes its aggregate's new node image by replacing its nodes. */
export const upgradesNodes = (bay: Bay): boolean =>
  bay.spec.upgradePolicy === 'Rolling' || bay.metadata.annotations?.[UPGRADE_NODES_ANNOTATION] === 'true';

/**
 * Nodes whose image is not the one their aggregate's alias names on their host now (the admin moved it,
 * say from marina-node/bookworm to marina-node/trixie), with the alias they should run.
 */
export function outdatedNodes(discovery: Discovery): Map<string, string> {
  const outdated = new Map<string, string>();
  for (const d of discovery.discovered) {
    const ref = discovery.hosts.get(hostKey(d.aggregate, d.host));
    if (!ref?.view?.ok) continue;
    const alias = ref.aggregate.spec.image;
    const wanted = ref.view.images.get(alias);
    const actual = d.info?.imageFingerprint;
    if (wanted && actual && wanted !== actual) outdated.set(d.name, alias);
  }
  return outdated;
}

/**
 * The node to replace now, if any: one already retiring (a crash or an earlier reconcile left it
 * there); else the first node on an evacuated host; else, for a bay that takes upgrades, the first node
 * on an outdated image. Workers before managers, by index.
 */
export function nodeToReplace(
  bay: Bay,
  discovery: Discovery,
  outdated: ReadonlyMap<string, string>,
): Replacement | undefined {
  const recorded = new Map((bay.status?.nodes ?? []).map((n) => [n.name, n]));
  const evacuated = (d: DiscoveredNode): boolean =>
    discovery.hosts.get(hostKey(d.aggregate, d.host))?.host.evacuate === true;
  const describe = (d: DiscoveredNode): Replacement => ({
    node: d.name,
    host: d.host,
    why: evacuated(d)
      ? `its host ${d.host} is being evacuated`
      : `its image is older than ${outdated.get(d.name) ?? 'its aggregate\'s'} (rolling upgrade)`,
  });
  const retiring = discovery.discovered.find((d) => recorded.get(d.name)?.state === 'Retiring');
  if (retiring) return describe(retiring);
  const roleOf = (d: DiscoveredNode): BayNodeStatus['role'] => recorded.get(d.name)?.role ?? d.role;
  const inOrder = (nodes: readonly DiscoveredNode[]): DiscoveredNode[] =>
    [...nodes].sort((a, b) => (roleOf(a) === roleOf(b) ? a.index - b.index : roleOf(a) === 'worker' ? -1 : 1));
  const first =
    inOrder(discovery.discovered.filter(evacuated))[0] ??
    (upgradesNodes(bay) ? inOrder(discovery.discovered.filter((d) => outdated.has(d.name)))[0] : undefined);
  return first ? describe(first) : undefined;
}

/** What the retire step found: done, or what it waits for. */
export type RetireOutcome = { readonly retired: true } | { readonly retired: false; readonly waiting: string };

export interface RetireTarget {
  readonly node: PlannedNode & { readonly name: string };
  readonly provider: HostProvider;
  /** A manager that stays: the drain and demotion go through it. */
  readonly manager: DockerClient | undefined;
  /** The swarm as the swarm phase listed it. */
  readonly members: ReadonlyMap<string, SwarmNode>;
  /** The nodes that stay, by name: each must be a ready, active member before the old one goes. */
  readonly staying: readonly string[];
  /** How many nodes the bay declares. */
  readonly desired: number;
}

/** Why the node cannot be retired yet; undefined when it can. */
export function retireBlocker(target: RetireTarget): string | undefined {
  const { node, members, staying, desired } = target;
  if (!target.manager) return 'waiting for a manager that stays to answer';
  if (staying.length < desired) return `waiting for its replacement to be placed (${staying.length} of ${desired} nodes stay)`;
  const unsettled = staying.filter((name) => {
    const m = members.get(name);
    return m?.state !== 'ready' || m.availability !== 'active';
  });
  if (unsettled.length > 0) return `waiting for ${unsettled.join(', ')} to be a ready, active swarm member before ${node.name} goes`;
  return undefined;
}

/**
 * Retires one node: marks it Retiring in status (a crash resumes here), drains it so its tasks run on
 * the nodes that stay, demotes it if it is a manager, deletes its instance and removes its member.
 * Every step can be taken again.
 */
export async function retireNode(
  deps: BayControllerDeps,
  bay: Bay,
  target: RetireTarget,
  ctx: ReconcileContext,
): Promise<{ bay: Bay; outcome: RetireOutcome }> {
  const blocker = retireBlocker(target);
  if (blocker) return { bay, outcome: { retired: false, waiting: blocker } };
  const name = target.node.name;
  const written = await markNodeState(deps, bay, name, 'Retiring', ctx);
  const manager = target.manager!;
  const deadline = () => new Date(Date.now() + deps.timeouts.rolloutStepMs);
  const member = memberOf(await step(name, 'list', () => listSwarmNodes(manager)), name);
  if (member) {
    // Its tasks run elsewhere before it goes: every service runs as many tasks as before the drain.
    await step(name, 'drain', async () => {
      const before = await runningTasksByService(manager);
      await drainNode(manager, member.id, deadline());
      await waitForRunningTasksAtLeast(manager, before, deadline());
    });
    if (member.role === 'manager') await step(name, 'demote', () => demoteAndWait(manager, member.id, deadline()));
  }
  // Its member goes down with the instance; the swarm phase removes down members no node stands behind.
  await step(name, 'delete', () => target.provider.deleteNode(name));
  return { bay: written, outcome: { retired: true } };
}

function memberOf(members: readonly SwarmNode[], name: string): SwarmNode | undefined {
  const named = members.filter((m) => m.hostname === name);
  return named.find((m) => m.state !== 'down') ?? named[0];
}

async function demoteAndWait(manager: DockerClient, id: string, deadline: Date): Promise<void> {
  for (;;) {
    const member = (await listSwarmNodes(manager)).find((m) => m.id === id);
    if (!member || member.role === 'worker') return;
    await demote(manager, id);
    if (Date.now() >= deadline.getTime()) throw new Error(`still a manager at ${deadline.toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function step<T>(node: string, name: RetireError['step'], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new RetireError(node, name, err instanceof Error ? err.message : String(err), { cause: err });
  }
}
