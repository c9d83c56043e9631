import { randomBytes } from 'node:crypto';
import type { Bay } from '../../../src/api/types.generated.js';
import { registerControllers, type Operator } from '../../../src/controllers/operator.js';
import { simulatedNodeAccess } from '../../../src/controllers/simulated.js';
import { SimWorld, type SimWorldConfig } from '../../../src/hosts/sim/index.js';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { BAY } from '../../../src/controllers/kinds.js';
import { ensureOperatorNamespace, kubectlFor, mustKubectl, OPERATOR_NAMESPACE, type Kubectl } from '../kubectl.js';
import { waitFor } from '../processes.js';
import { CapturedLog, kubeConfigFrom } from '../runtime/cluster.js';
import { sumSamples } from './operator.js';

/** Every latency 0: orchestration tests assert what happens, not how long it takes. */
const NO_LATENCY = { create: 0, start: 0, stop: 0, delete: 0, list: 0, file: 0, exec: 0, other: 0, docker: 0 };

export interface SimOperatorOptions {
  readonly world?: SimWorldConfig;
  /** Simulated hosts of the test's aggregate. */
  readonly hosts?: readonly string[];
  /** The aggregate's overcommit ratios. */
  readonly overcommit?: { readonly cpu: number; readonly memory: number };
  readonly kernelModules?: readonly string[];
  /** How often hosts are observed (500 ms unless said): a long one keeps bays reading a stale view. */
  readonly probeIntervalMs?: number;
  /** How long a never-ready node may run before marina restarts it (60 s unless said). */
  readonly startupMs?: number;
}

/**
 * marina's controllers in the test process, on simulated hosts, against the real test apiserver: for
 * orchestration paths the e2e tier cannot reach cheaply (placement races, faults mid-create, the error
 * policy). Each instance has its own namespace, its own aggregate (which only its bays select) and its
 * own world.
 */
export class SimOperator {
  readonly suite = `sim-${randomBytes(3).toString('hex')}`;
  readonly namespace = this.suite;
  readonly aggregate = `${this.suite}-hosts`;
  /** The running operator's metrics (a new registry per start, as a new process would have). */
  metrics = new RuntimeMetrics();
  readonly log = new CapturedLog('info');
  private manager: Manager | undefined;
  private operator: Operator | undefined;

  private constructor(
    readonly world: SimWorld,
    readonly client: KubeClient,
    readonly kubectl: Kubectl,
    private readonly kubeconfigPath: string,
    private readonly options: SimOperatorOptions,
  ) {}

  static async start(kubeconfigPath: string, kubeBinDir: string, options: SimOperatorOptions = {}): Promise<SimOperator> {
    const world = new SimWorld({ ...options.world, latency: { ...NO_LATENCY, ...options.world?.latency }, docker: { caRotationMs: 50, ...options.world?.docker } });
    const client = await KubeClient.fromKubeConfig(kubeConfigFrom(kubeconfigPath));
    const sim = new SimOperator(world, client, kubectlFor(kubeconfigPath, kubeBinDir), kubeconfigPath, options);
    await ensureOperatorNamespace(sim.kubectl);
    await mustKubectl(sim.kubectl, ['create', 'namespace', sim.namespace]);
    await sim.applyAggregate({});
    await sim.startOperator();
    await mustKubectl(sim.kubectl, ['wait', '--for=condition=Ready', '--timeout=60s', `hostaggregate/${sim.aggregate}`]);
    return sim;
  }

  get hosts(): readonly string[] {
    return this.options.hosts ?? ['host-a'];
  }

  /** (Re)applies the test's aggregate, with changes. */
  async applyAggregate(over: {
    kernelModules?: readonly string[];
    image?: string;
    /** Hosts marked for evacuation, and hosts cordoned. */
    evacuate?: readonly string[];
    cordoned?: readonly string[];
  }): Promise<void> {
    const flags = (h: string): string =>
      `${over.evacuate?.includes(h) ? ', evacuate: true' : ''}${over.cordoned?.includes(h) ? ', cordoned: true' : ''}`;
    const hosts = this.hosts
      .map((h) => `    - {name: ${h}, endpoint: "unix:///simulated/${this.suite}/${h}.socket"${flags(h)}}`)
      .join('\n');
    const { cpu, memory } = this.options.overcommit ?? { cpu: 4, memory: 1 };
    const modules = over.kernelModules ?? this.options.kernelModules ?? [];
    await mustKubectl(this.kubectl, ['apply', '-f', '-'], {
      input: `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${this.aggregate}}
spec:
  metadata: {suite: ${this.suite}}
  hosts:
${hosts}
  # Simulated hosts model one shared bridge each.
  network: {mode: shared}
  kernelModules: [${modules.join(', ')}]
  overcommit: {cpu: ${cpu}, memory: ${memory}}
${over.image ? `  image: ${over.image}\n` : ''}`,
    });
  }

  async startOperator(): Promise<void> {
    this.metrics = new RuntimeMetrics();
    const manager = await Manager.create({ kubeConfig: kubeConfigFrom(this.kubeconfigPath), log: this.log.log, metrics: this.metrics });
    this.operator = registerControllers(manager, {
      namespace: OPERATOR_NAMESPACE,
      probeIntervalMs: this.options.probeIntervalMs ?? 500,
      bayRetryMs: 200,
      bayResyncMs: 2_000,
      timeouts: { addressMs: 5_000, dockerMs: 5_000, rolloutStepMs: 5_000, startupMs: this.options.startupMs ?? 60_000 },
      hostFactory: (_endpoint, _credentials, options) =>
        this.world.provider(`${options.aggregate}/${options.name}`, { ...(options.kernelModules ? { kernelModules: options.kernelModules } : {}) }),
      ...simulatedNodeAccess(this.world),
    });
    await manager.start();
    this.manager = manager;
  }

  /** SIGKILL's in-process equivalent is not possible; a graceful stop drops every in-memory cache. */
  async stopOperator(): Promise<void> {
    await this.manager?.stop();
    this.operator?.registry.closeAll();
    this.manager = undefined;
  }

  /** The world's name of one of the test's hosts. */
  hostName(host: string): string {
    return `${this.aggregate}/${host}`;
  }

  async applyBay(
    name: string,
    spec: {
      nodes: number;
      managers?: number;
      deletionPolicy?: 'Delete' | 'Retain';
      upgradePolicy?: 'Manual' | 'Rolling';
      cpu?: number;
      tls?: Record<string, string>;
      annotations?: Record<string, string>;
    },
  ): Promise<void> {
    const tls = spec.tls ? `  tls: ${JSON.stringify(spec.tls)}\n` : '';
    const annotations = spec.annotations ? `, annotations: ${JSON.stringify(spec.annotations)}` : '';
    await mustKubectl(this.kubectl, ['apply', '-f', '-'], {
      input: `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${name}, namespace: ${this.namespace}${annotations}}
spec:
${tls}  nodes: ${spec.nodes}
  managers: ${spec.managers ?? 1}
  flavor: {cpu: ${spec.cpu ?? 1}, memory: 512Mi, disk: 2Gi}
  aggregateSelector: {matchLabels: {suite: ${this.suite}}}
  deletionPolicy: ${spec.deletionPolicy ?? 'Delete'}
${spec.upgradePolicy ? `  upgradePolicy: ${spec.upgradePolicy}\n` : ''}`,
    });
  }

  async bay(name: string): Promise<Bay> {
    return this.client.get<Bay>(BAY, { namespace: this.namespace, name });
  }

  async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    return waitFor(what, probe, timeoutMs, 100);
  }

  async waitReady(name: string, timeoutMs = 60_000): Promise<Bay> {
    return this.waitFor(`bay ${name} Ready`, async () => {
      const bay = await this.bay(name);
      return bay.status?.phase === 'Ready' ? bay : undefined;
    }, timeoutMs);
  }

  /** A condition of the bay once it has `reason`. */
  async waitReason(name: string, type: string, reason: string, timeoutMs = 60_000): Promise<{ status: string; message: string }> {
    return this.waitFor(`${type} ${reason} on ${name}`, async () => {
      const c = (await this.bay(name)).status?.conditions?.find((x) => x.type === type);
      return c?.reason === reason ? c : undefined;
    }, timeoutMs);
  }

  /** The marina nodes of one bay on every host of the world, by the ownership the host holds. */
  nodesOf(bay: Bay): ReturnType<SimWorld['instances']> {
    return this.world.instances().filter((i) => i.config['user.marina.bay.uid'] === bay.metadata.uid);
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumSamples(await this.metrics.registry.metrics(), name, labels);
  }

  async stop(): Promise<void> {
    await this.kubectl(['delete', 'bays', '--all', '-n', this.namespace, '--timeout=60s']);
    await this.stopOperator();
    const left = (await this.kubectl(['get', 'bays', '-n', this.namespace, '-o', 'name'])).stdout.split('\n').filter(Boolean);
    for (const bay of left) await this.kubectl(['patch', bay, '-n', this.namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await this.kubectl(['delete', 'namespace', this.namespace, '--wait=false']);
    await this.kubectl(['delete', 'hostaggregate', this.aggregate, '--wait=false']);
    this.client.close();
    await this.world.close();
  }
}
