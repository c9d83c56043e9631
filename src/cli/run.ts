import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { simulatedNodeAccess } from '../controllers/simulated.js';
import type { HostProviderFactory } from '../controllers/hosts/registry.js';
import { registerControllers } from '../controllers/operator.js';
import { SimWorld, type SimWorldConfig } from '../hosts/sim/index.js';
import { NAMESPACE } from '../controllers/kinds.js';
import { warmRsaKeys } from '../pki/index.js';
import { isConflict, isNotFound } from '../runtime/errors.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { createLogger, type Logger } from '../runtime/logger.js';
import { Manager, type LeaderElectionConfig } from '../runtime/manager.js';

export interface RunOptions {
  readonly kubeconfig?: string;
  readonly healthPort: number;
  readonly leaderElect: boolean;
  readonly namespace: string;
  readonly leaseNamespace?: string;
  /** Seconds: lease duration, renew deadline, retry period (Kubernetes' 15, 10, 2 by default). */
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
  readonly credentialsNamespace: string[];
  readonly probeInterval: number;
  readonly resync: number;
  readonly healthAddress: string;
  readonly usageInterval: number;
  readonly concurrency: number;
  readonly logLevel: string;
  /** Benchmarks only: every host and node is simulated, kept in this file across restarts. */
  readonly simulateHosts?: string;
  /** Benchmarks only: a JSON file with the simulated world's configuration (latency, host hardware). */
  readonly simulateConfig?: string;
}

/**
 * RSA keys kept made ahead: a 10-node bay takes 13 (its CA, marina's client, one per node, the
 * tenant's bundle), which then cost no time on its way to Ready. Room for a few bays made one after
 * the other: the pool makes keys again only once none was taken for a few seconds.
 */
const WARM_RSA_KEYS = 32;

/** `marina run`: the operator. Runs until SIGTERM or SIGINT, then drains and releases its lease. */
export async function runOperator(opts: RunOptions): Promise<void> {
  const kubeConfig = new KubeConfig();
  if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
  else kubeConfig.loadFromDefault();
  const log = createLogger({ level: opts.logLevel });
  warmRsaKeys(WARM_RSA_KEYS);
  const mgr = await Manager.create({
    kubeConfig,
    log,
    healthServer: { host: opts.healthAddress, port: opts.healthPort },
    ...(opts.leaderElect ? { leaderElection: leaderElection(opts) } : {}),
  });
  await ensureOwnNamespace(mgr.client, opts.namespace, log);
  const world = opts.simulateHosts ? await openSimulatedWorld(opts.simulateHosts, opts.simulateConfig) : undefined;
  if (world) log.warn({ file: opts.simulateHosts }, 'hosts and nodes are SIMULATED: for benchmarks only');
  const { registry } = registerControllers(mgr, {
    namespace: opts.namespace,
    credentialNamespaces: opts.credentialsNamespace,
    probeIntervalMs: opts.probeInterval * 1000,
    bayResyncMs: opts.resync * 1000,
    bayUsageIntervalMs: opts.usageInterval * 1000,
    bayConcurrency: opts.concurrency,
    ...(world ? simulated(world) : {}),
  });
  try {
    await mgr.run();
  } finally {
    registry.closeAll();
    await world?.close();
  }
}

/**
 * The operator's namespace holds the bays' CAs and keys: run outside a cluster against a fresh one
 * (the quick start), marina creates it; where it may not, it says what to do instead of failing each
 * bay later.
 */
async function ensureOwnNamespace(client: KubeClient, namespace: string, log: Logger): Promise<void> {
  try {
    await client.get(NAMESPACE, { name: namespace });
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await client.create(NAMESPACE, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    log.info({ namespace }, 'created the operator namespace, where bays\' CAs and keys are kept');
  } catch (err) {
    if (isConflict(err)) return;
    log.error({ namespace, err }, `namespace ${namespace} does not exist and marina may not create it: create it, or pass --namespace`);
  }
}

function leaderElection(opts: RunOptions): LeaderElectionConfig {
  return {
    leaseName: 'marina-operator',
    leaseNamespace: opts.leaseNamespace ?? opts.namespace,
    leaseDurationMs: opts.leaseDuration * 1000,
    renewDeadlineMs: opts.renewDeadline * 1000,
    retryPeriodMs: opts.retryPeriod * 1000,
  };
}

async function openSimulatedWorld(file: string, configFile: string | undefined): Promise<SimWorld> {
  const config = configFile ? (JSON.parse(await readFile(configFile, 'utf8')) as SimWorldConfig) : {};
  return SimWorld.open({ ...config, file });
}

/** Every host of every aggregate a simulated host of that name; every node's dockerd a simulated one. */
function simulated(world: SimWorld): { hostFactory: HostProviderFactory } & ReturnType<typeof simulatedNodeAccess> {
  return {
    hostFactory: (_endpoint, _credentials, options) =>
      world.provider(options.name, { ...(options.storagePool ? { storagePool: options.storagePool } : {}), ...(options.kernelModules ? { kernelModules: options.kernelModules } : {}) }),
    ...simulatedNodeAccess(world),
  };
}
