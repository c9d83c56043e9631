import type { Bay, BayNodeStatus } from '../../api/types.generated.js';
import { parseBytes } from '../../api/quantity.js';
import {
  HostTimeoutError,
  isNodeGone,
  waitForNodeAddress,
  type HostProvider,
  type NodeDrift,
  type NodeFlavor,
  type NodeInfo,
  type NodeNetwork,
  type NodeSpec,
} from '../../hosts/index.js';
import {
  applyDockerdTls,
  bindNode,
  dockerClient,
  dockerdFiles,
  pushDockerdFiles,
  waitForDocker,
  readLocalSwarmState,
  readServedCertificate,
  type DockerClient,
  type DockerdTlsMaterial,
} from '../../swarm/index.js';
import type { NodeRole } from '../../scheduler/types.js';
import type { ProvisioningStage } from '../metrics.js';
import {
  ensureNodeLeaf,
  presentedChain,
  storedNodeLeaf,
  tlsGeneration,
  trustedCaPems,
  type BayPki,
  type RenewalContext,
} from './certificates.js';
import type { BayControllerDeps, NodeDockerFactory, NodeDockerTls, ServedCertificateReader } from './deps.js';
import { classifyFailure, TlsUnansweredError, type BayFailure } from './failures.js';
import { inspectOnce } from './parsed-pki.js';
import { everRan } from './plan.js';

/** What a node's dockerd serves and trusts, as recorded in status (tlsGeneration and the certificate's facts). */
export interface NodeTls {
  readonly generation: string;
  readonly serial: string;
  readonly notAfter: Date;
}

/** How a node came out of phases 3 and 4; a failure is a fact too, recorded in status and judged by the policy. */
export type NodeOutcome =
  | {
      readonly ok: true;
      readonly address: string;
      readonly tls: NodeTls;
      readonly created: boolean;
      /** Settings the running node differs in from what is asked now; reported, never acted on. */
      readonly drift: readonly NodeDrift[];
      /** Settings repaired on a node that never ran workloads. */
      readonly repaired: readonly NodeDrift[];
      /** It had served workloads and was found stopped (not by marina): marina started it again. */
      readonly restarted?: boolean;
    }
  | {
      readonly ok: false;
      readonly stage: 'provision' | 'docker';
      readonly failure: BayFailure;
      readonly address?: string;
      /** A node that served workloads and no longer answers marina over TLS: the rollout repairs it. */
      readonly repair?: boolean;
      /** It never became ready within the startup timeout of its last start, so marina restarted it. */
      readonly restartedAfterMs?: number;
    };

export interface NodeTarget {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly provider: HostProvider;
  /** The host's key in the inventory, where what marina did to the node is noted. */
  readonly inventoryKey: string;
  /** The aggregate's image alias. */
  readonly image: string;
  /** The bridge and, in isolated mode, the node's fixed address. */
  readonly network: NodeNetwork;
  /** What status last said of the node; a node that was never Ready has run no workload. */
  readonly recorded: BayNodeStatus | undefined;
  /** Told once the instance exists (creation-order.ts): the host's next creation may begin. */
  readonly created?: () => void;
}

export function nodeSpec(
  bay: Bay,
  target: Pick<NodeTarget, 'name' | 'index' | 'role' | 'image' | 'network'>,
): NodeSpec {
  return {
    name: target.name,
    image: target.image,
    ownership: {
      bayUid: bay.metadata.uid!,
      namespace: bay.metadata.namespace!,
      bayName: bay.metadata.name!,
      index: target.index,
      role: target.role,
    },
    flavor: nodeFlavorOf(bay),
    network: target.network,
  };
}

/** The size of each of the bay's nodes, as the host layer takes it. */
export function nodeFlavorOf(bay: Bay): NodeFlavor {
  const { cpu, memory, disk, processes } = bay.spec.flavor;
  return {
    cpu,
    memoryBytes: parseBytes(memory),
    diskBytes: parseBytes(disk),
    ...(processes !== undefined ? { processes } : {}),
  };
}

/** marina's client for one node's dockerd over the network, trusting only the bay's CA. */
export const nodeDocker: NodeDockerFactory = (tls, address, timeoutMs = 30_000): DockerClient =>
  dockerClient({ address, caPems: tls.caPems, certPem: tls.certPem, keyPem: tls.keyPem, timeoutMs });

/** The serial of the certificate a node's dockerd serves, read by a verified handshake. */
export const nodeServedCertificate: ServedCertificateReader = (tls, address) =>
  readServedCertificate({ address, caPems: tls.caPems, certPem: tls.certPem, keyPem: tls.keyPem });

/** marina's TLS towards the nodes: it trusts what they trust and presents its chain. */
export const dockerTlsOf = (pki: BayPki): NodeDockerTls => ({
  caPems: trustedCaPems(pki),
  certPem: presentedChain(pki, pki.operator.certPem),
  keyPem: pki.operator.keyPem,
});

/**
 * Phases 3 and 4 for one node, each step idempotent: create (or adopt) the instance, repair its
 * settings if it never ran workloads, start it, wait for its address, then make its dockerd serve
 * mutual TLS with a server certificate naming that address. A node that serves workloads is never
 * restarted here: when it answers marina it is left alone, when it does not the rollout repairs it
 * (drained first, one node at a time).
 */
export async function bringUpNode(
  deps: BayControllerDeps,
  bay: Bay,
  pki: BayPki,
  target: NodeTarget,
  renewal: RenewalContext,
  signal?: AbortSignal,
): Promise<NodeOutcome> {
  const stage = stageTimer(deps);
  const spec = nodeSpec(bay, target);
  let node: NodeInfo & { ipv4Address: string };
  let created = false;
  let drift: readonly NodeDrift[] = [];
  let repaired: readonly NodeDrift[] = [];
  let seededBoot: SeededBoot | undefined;
  let booting = false;
  try {
    let ensured = await stage(
      'create',
      () => target.provider.ensureNode(spec, { adoptOnly: everRan(target.recorded) }),
      (e) => e.created,
    );
    target.created?.();
    created = ensured.created;
    if (ensured.drift.length > 0 && neverRanWorkloads(target.recorded?.state, ensured.node)) {
      repaired = ensured.drift;
      ensured = await target.provider.reconfigureNode(spec);
    } else {
      drift = ensured.drift;
    }
    // Noted at once: the next observation of the host then finds no "new" node to wake the bay for.
    deps.inventory.noteNode(target.inventoryKey, ensured.node);
    booting = ensured.node.status !== 'running';
    let seeded: SeededTls | undefined;
    if (booting && !servesWorkloads(target.recorded)) {
      seeded = await stage(
        'seed',
        () => seedDockerdTls(deps, bay, pki, target, renewal, signal),
        (s) => s !== undefined,
      );
    }
    if (booting) await stage('start', () => target.provider.startNode(target.name));
    if (seeded) {
      const tls = seeded;
      seededBoot = await stage('dockerd', () => awaitSeededDockerd(deps, pki, tls), (boot) => boot.answered);
    }
    const boot = seededBoot;
    const known = ensured.node;
    node = boot?.answered
      ? { ...known, status: 'running', ipv4Address: boot.address }
      : await stage(
          'address',
          () =>
            boot
              ? addressAfterSilence(target.provider, target.name, known, boot.failure, deps.timeouts.dockerMs)
              : waitForNodeAddress(target.provider, target.name, { timeoutMs: deps.timeouts.addressMs, node: known }),
          () => booting,
        );
  } catch (err) {
    // Gone since the host was last observed: the next reconcile's plan finds it lost and replaces it.
    if (isNodeGone(err)) deps.inventory.dropNode(target.inventoryKey, target.name);
    return { ok: false, stage: 'provision', failure: classifyFailure('nodes', err, target.name) };
  }
  deps.inventory.noteNode(target.inventoryKey, node);
  const address = node.ipv4Address;
  // Stopped behind marina's back after serving workloads: it boots with its TLS files, as it was.
  const restarted = booting && servesWorkloads(target.recorded);
  const done = (tls: NodeTls): NodeOutcome => ({
    ok: true,
    address,
    tls,
    created,
    drift,
    repaired,
    ...(restarted ? { restarted } : {}),
  });
  try {
    if (seededBoot?.address === address) {
      // dockerd booted with its final certificate (no restart): it answered, or it never will by itself.
      if (!seededBoot.answered) throw seededBoot.failure;
      return done(seededBoot.tls);
    }
    // A node that just booted is given the time dockerd takes to start (up to 30 s) before it counts as
    // not answering, which would mean a drained repair.
    const answers = restarted
      ? await waitForDocker(deps.docker(dockerTlsOf(pki), address), inSeconds(30)).then(
          () => true,
          () => false,
        )
      : await answersOverTls(deps.docker(dockerTlsOf(pki), address, 5_000));
    if (servesWorkloads(target.recorded)) {
      const tls = answers
        ? (recordedTls(target.recorded, address) ?? adoptedTls(deps, bay, pki, target.index, address))
        : undefined;
      if (tls) return done(tls);
      const failure = classifyFailure('nodes', new TlsUnansweredError(target.name, address), target.name);
      return { ok: false, stage: 'docker', failure, address, repair: true };
    }
    if (answers) {
      const tls = recordedTls(target.recorded, address) ?? adoptedTls(deps, bay, pki, target.index, address);
      if (tls) return done(tls);
    }
    const served = await servingMaterial(deps, bay, pki, target, address, renewal, signal);
    const deadline = dockerDeadline(deps);
    await stage('dockerd', () =>
      applyDockerdTls(
        bindNode(target.provider, target.name),
        deps.docker(dockerTlsOf(pki), address),
        served.material,
        deadline,
      ),
    );
    return done(served.tls);
  } catch (err) {
    const failure = classifyFailure('nodes', err, target.name);
    const stuckMs = booting ? undefined : startupOverdueMs(target.recorded, node.startedAt, deps.timeouts.startupMs);
    if (stuckMs === undefined) return { ok: false, stage: 'docker', failure, address };
    return { ...(await restartStuckNode(target, failure, stuckMs)), address };
  }
}

/**
 * How long a node that never served workloads has run without becoming ready, once that is longer than
 * the startup timeout; undefined otherwise. Such a node holds nothing of the tenant's, and a fresh boot
 * clears what retries do not: a host once refused every file push into one node until it restarted.
 */
export function startupOverdueMs(
  recorded: BayNodeStatus | undefined,
  startedAt: Date | undefined,
  startupMs: number,
  now = Date.now(),
): number | undefined {
  if (mayHaveRunWorkloads(recorded?.state) || startedAt === undefined) return undefined;
  const running = now - startedAt.getTime();
  return running > startupMs ? running : undefined;
}

/** Stops and starts the node; the failure that found it stuck stays the outcome (it is not ready yet). */
async function restartStuckNode(
  target: NodeTarget,
  failure: BayFailure,
  stuckMs: number,
): Promise<Extract<NodeOutcome, { ok: false }>> {
  try {
    await target.provider.stopNode(target.name, { force: true });
    await target.provider.startNode(target.name);
  } catch (err) {
    return { ok: false, stage: 'docker', failure: classifyFailure('nodes', err, target.name) };
  }
  return { ok: false, stage: 'docker', failure, restartedAfterMs: stuckMs };
}

const inSeconds = (s: number): Date => new Date(Date.now() + s * 1000);
const dockerDeadline = (deps: BayControllerDeps): Date => new Date(Date.now() + deps.timeouts.dockerMs);

interface SeededTls {
  readonly address: string;
  readonly tls: NodeTls;
}

/**
 * A node whose address is fixed before it boots (isolated mode) gets dockerd's certificate and
 * configuration while it is still stopped: dockerd starts serving mutual TLS at first boot, and the
 * restart every other node needs is saved. undefined when the address is not known in advance.
 */
async function seedDockerdTls(
  deps: BayControllerDeps,
  bay: Bay,
  pki: BayPki,
  target: NodeTarget,
  renewal: RenewalContext,
  signal?: AbortSignal,
): Promise<SeededTls | undefined> {
  const address = target.network.ipv4Address;
  if (address === undefined) return undefined;
  const { material, tls } = await servingMaterial(deps, bay, pki, target, address, renewal, signal);
  await pushDockerdFiles(bindNode(target.provider, target.name), dockerdFiles(material));
  return { address, tls };
}

/** A seeded node after its start: its dockerd answered at the address it was given, or why not. */
type SeededBoot = SeededTls & ({ readonly answered: true } | { readonly answered: false; readonly failure: unknown });

/**
 * A seeded node is asked at its known address straight after its start, without polling the host
 * for the node's state until its address shows: each poll costs the host daemon a state render (disk
 * usage included, a `btrfs` run on a btrfs pool), and dockerd, which starts after the network, answers
 * later anyway. A connect sent before the node has its address waits for the host's ARP retries, and
 * fails only to be tried again. When no answer comes by the deadline, the host is asked once for the
 * address the node has: a different one means the node is served like any whose address is learnt at
 * boot; the same one, that its dockerd failed.
 */
async function awaitSeededDockerd(deps: BayControllerDeps, pki: BayPki, seeded: SeededTls): Promise<SeededBoot> {
  try {
    await waitForDocker(deps.docker(dockerTlsOf(pki), seeded.address), dockerDeadline(deps));
    return { ...seeded, answered: true };
  } catch (failure) {
    return { ...seeded, answered: false, failure };
  }
}

/**
 * After a seeded node's dockerd stayed silent until its deadline, one look at the node: its address if
 * it has one, else a timeout that says how long the node was given and why it was asked.
 */
async function addressAfterSilence(
  provider: HostProvider,
  name: string,
  node: NodeInfo,
  silence: unknown,
  waitedMs: number,
): Promise<NodeInfo & { ipv4Address: string }> {
  try {
    return await waitForNodeAddress(provider, name, { timeoutMs: 0, node });
  } catch (error) {
    if (!(error instanceof HostTimeoutError)) throw error;
    const context = { host: error.host, operation: error.operation, instance: name };
    throw new HostTimeoutError(context, waitedMs, { cause: silence });
  }
}

/** The node's server certificate for `address` (kept, or issued and stored) and what dockerd serves it with. */
async function servingMaterial(
  deps: BayControllerDeps,
  bay: Bay,
  pki: BayPki,
  target: NodeTarget,
  address: string,
  renewal: RenewalContext,
  signal?: AbortSignal,
): Promise<{ readonly material: DockerdTlsMaterial; readonly tls: NodeTls }> {
  const node = { name: target.name, index: target.index, address };
  const leaf = await ensureNodeLeaf(deps.secrets, bay, pki, node, renewal, signal);
  return {
    material: { caPems: trustedCaPems(pki), certPem: presentedChain(pki, leaf.certPem), keyPem: leaf.keyPem },
    tls: { generation: tlsGeneration(pki, leaf.certPem), serial: leaf.serial, notAfter: leaf.notAfter },
  };
}

/** Ready members, and nodes a rollout or a replacement drains: each may run tenant containers. */
const SERVING_STATES: ReadonlySet<BayNodeStatus['state']> = new Set(['Ready', 'Draining', 'Retiring']);

/** A node that was a Ready swarm member (or is being restarted or replaced) may run tenant containers. */
export const servesWorkloads = (recorded: BayNodeStatus | undefined): boolean =>
  SERVING_STATES.has(recorded?.state);

/** A serving node, or a lost one (what it ran before it went is unknown). */
const mayHaveRunWorkloads = (state: BayNodeStatus['state'] | undefined): boolean =>
  SERVING_STATES.has(state) || state === 'Lost';


/** What status says the node serves, while its address is the one the certificate was issued for. */
export function recordedTls(recorded: BayNodeStatus | undefined, address: string): NodeTls | undefined {
  if (
    !recorded?.tlsGeneration ||
    !recorded.certificateSerial ||
    !recorded.certificateNotAfter ||
    recorded.address !== address
  )
    return undefined;
  return {
    generation: recorded.tlsGeneration,
    serial: recorded.certificateSerial,
    notAfter: new Date(recorded.certificateNotAfter),
  };
}

/**
 * A node configured by a marina that recorded no TLS generation (an earlier release, or a crash before
 * the status write): it serves its stored certificate with the bay's trust as it is now.
 */
function adoptedTls(
  deps: BayControllerDeps,
  bay: Bay,
  pki: BayPki,
  index: number,
  address: string,
): NodeTls | undefined {
  const leaf = storedNodeLeaf(deps.secrets, bay, index);
  return leaf && inspectOnce(leaf.certPem).sans.ipAddresses.includes(address)
    ? { generation: tlsGeneration(pki, leaf.certPem), serial: leaf.serial, notAfter: leaf.notAfter }
    : undefined;
}

/**
 * A node that was never a Ready swarm member and is not running has run no workload: changing or
 * re-creating its instance loses nothing. Any other node keeps its instance as it is.
 */
export function neverRanWorkloads(recorded: BayNodeStatus['state'] | undefined, node: NodeInfo): boolean {
  return !mayHaveRunWorkloads(recorded) && node.status !== 'running';
}

/** True when the node's dockerd already serves TLS with a certificate of this bay's CA for its address. */
async function answersOverTls(client: DockerClient): Promise<boolean> {
  try {
    await readLocalSwarmState(client, 'tls-check');
    return true;
  } catch {
    return false;
  }
}

type StageTimer = <T>(
  name: Exclude<ProvisioningStage, 'swarm_join'>,
  work: () => Promise<T>,
  counts?: (result: T) => boolean,
) => Promise<T>;

/** Times a provisioning stage into marina_node_provisioning_seconds when it did real work. */
function stageTimer(deps: BayControllerDeps): StageTimer {
  return async (name, work, counts) => {
    const started = performance.now();
    const result = await work();
    if (!counts || counts(result)) deps.metrics?.provisioned(name, (performance.now() - started) / 1000);
    return result;
  };
}
