import { KubeConfig } from '@kubernetes/client-node';
import { registerControllers } from '../controllers/operator.js';
import { createLogger } from '../runtime/logger.js';
import { Manager } from '../runtime/manager.js';

export interface RunOptions {
  readonly kubeconfig?: string;
  readonly healthPort: number;
  readonly leaderElect: boolean;
  readonly namespace: string;
  readonly leaseNamespace?: string;
  readonly credentialsNamespace: string[];
  readonly probeInterval: number;
  readonly resync: number;
  readonly concurrency: number;
  readonly logLevel: string;
}

/** `marina run`: the operator. Runs until SIGTERM or SIGINT, then drains and releases its lease. */
export async function runOperator(opts: RunOptions): Promise<void> {
  const kubeConfig = new KubeConfig();
  if (opts.kubeconfig) kubeConfig.loadFromFile(opts.kubeconfig);
  else kubeConfig.loadFromDefault();
  const log = createLogger({ level: opts.logLevel });
  const mgr = await Manager.create({
    kubeConfig,
    log,
    healthServer: { port: opts.healthPort },
    ...(opts.leaderElect ? { leaderElection: { leaseName: 'marina-operator', leaseNamespace: opts.leaseNamespace ?? opts.namespace } } : {}),
  });
  const { registry } = registerControllers(mgr, {
    namespace: opts.namespace,
    credentialNamespaces: opts.credentialsNamespace,
    probeIntervalMs: opts.probeInterval * 1000,
    bayResyncMs: opts.resync * 1000,
    bayConcurrency: opts.concurrency,
  });
  try {
    await mgr.run();
  } finally {
    registry.closeAll();
  }
}
