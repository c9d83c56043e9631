import { joinSwarm, joinTokens, type JoinTokens } from '../../swarm/index.js';
import type { NodeOutcome } from './nodes.js';
import { foundSwarm, type ConnectNode, type RoutingMeshProbe } from './swarm.js';
import type { PlannedNode } from './plan.js';

/**
 * A bay's first swarm, formed as its nodes come up: its lowest-index manager initialises the swarm the
 * moment its dockerd answers (the manager the swarm phase would choose), and each other node joins as
 * soon as it answers too, while the rest still boot, instead of all after the slowest. The swarm phase
 * then finds them members and only confirms. Managers join one at a time (raft grows by one voter at a
 * time), workers at once. Only for a bay without a swarm: a bay that has one joins new nodes in the
 * swarm phase, through a manager known to answer. Nothing here is needed for correctness: whatever
 * fails is left to the swarm phase, which takes the same idempotent steps again.
 */
export interface SwarmFormation {
  /** Called once for every planned node after it was brought up (or not): joins it, or founds the swarm. */
  afterBringUp(node: PlannedNode, name: string, outcome: NodeOutcome | undefined): Promise<void>;
  /** Nodes this formation joined, and whether it initialised the swarm. */
  readonly joined: readonly string[];
  readonly initialised: boolean;
}

export interface FormationPlan {
  readonly connect: ConnectNode;
  /** The planned nodes of this reconcile. */
  readonly nodes: readonly PlannedNode[];
  /** The bay has a swarm already (an endpoint, or a node recorded Ready). */
  readonly hasSwarm: boolean;
  /** Whether a node is on its way out (never joined again). */
  readonly leaving: (node: PlannedNode) => boolean;
  readonly onJoined?: (seconds: number) => void;
  /** Whether the founding manager's kernel carries the routing mesh. */
  readonly routingMesh?: RoutingMeshProbe;
  /** Where a failure is told (the swarm phase will try again). */
  readonly onFailure: (node: string, err: unknown) => void;
}

/** A formation for this reconcile; undefined when the bay has a swarm, or no manager to found one. */
export function swarmFormation(plan: FormationPlan): SwarmFormation | undefined {
  const founder = plan.hasSwarm ? undefined : foundingManager(plan.nodes, plan.leaving);
  if (founder === undefined) return undefined;
  let anchorFound: (address: string | undefined) => void = () => undefined;
  const anchor = new Promise<string | undefined>((resolve) => (anchorFound = resolve));
  let tokens: Promise<JoinTokens> | undefined;
  let managerQueue: Promise<unknown> = Promise.resolve();
  const joined: string[] = [];
  let initialised = false;

  const found = async (name: string, address: string): Promise<void> => {
    try {
      initialised = await foundSwarm(plan.connect, { name, address }, plan.routingMesh);
      anchorFound(address);
    } catch (err) {
      anchorFound(undefined);
      plan.onFailure(name, err);
    }
  };

  const join = async (node: PlannedNode, name: string, address: string, manager: string): Promise<void> => {
    const started = performance.now();
    try {
      tokens ??= joinTokens(plan.connect(manager));
      const { worker, manager: managerToken } = await tokens;
      const token = node.role === 'manager' ? managerToken : worker;
      const request = { advertiseAddr: address, remoteAddrs: [manager], token };
      const membership = await joinSwarm(plan.connect(address), request);
      if (membership.changed) {
        joined.push(name);
        plan.onJoined?.((performance.now() - started) / 1000);
      }
    } catch (err) {
      plan.onFailure(name, err);
    }
  };

  return {
    get joined() {
      return joined;
    },
    get initialised() {
      return initialised;
    },
    async afterBringUp(node, name, outcome) {
      const up = outcome?.ok ? outcome.address : undefined;
      if (node.index === founder.index) {
        if (up === undefined) anchorFound(undefined);
        else await found(name, up);
        return;
      }
      if (up === undefined || plan.leaving(node)) return;
      const manager = await anchor;
      if (manager === undefined) return;
      if (node.role === 'worker') return join(node, name, up, manager);
      const turn = managerQueue.then(() => join(node, name, up, manager));
      managerQueue = turn;
      return turn;
    },
  };
}

/** The manager that founds a bay's swarm: the lowest-index one, as the swarm phase would choose. */
function foundingManager(
  nodes: readonly PlannedNode[],
  leaving: FormationPlan['leaving'],
): PlannedNode | undefined {
  return [...nodes]
    .filter((n) => n.role === 'manager' && n.state !== 'unknown' && !leaving(n))
    .sort((a, b) => a.index - b.index)[0];
}
