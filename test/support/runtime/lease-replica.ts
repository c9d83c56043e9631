/**
 * One operator replica as its own OS process, for the leader-election tests: a Manager with leader
 * election and one ConfigMap controller that logs `reconciled` for every key. Logs are JSON on stdout.
 *
 * Environment: KUBECONFIG, REPLICA_ID, LEASE_NAMESPACE, LEASE_NAME, WATCH_NAMESPACE,
 * LEASE_DURATION_MS, RENEW_DEADLINE_MS, RETRY_PERIOD_MS.
 */
import { Manager } from '../../../src/runtime/manager.js';
import { CONFIG_MAP, kubeConfigFrom } from './cluster.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const identity = required('REPLICA_ID');
const manager = await Manager.create({
  kubeConfig: kubeConfigFrom(required('KUBECONFIG')),
  leaderElection: {
    leaseName: required('LEASE_NAME'),
    leaseNamespace: required('LEASE_NAMESPACE'),
    identity,
    leaseDurationMs: Number(required('LEASE_DURATION_MS')),
    renewDeadlineMs: Number(required('RENEW_DEADLINE_MS')),
    retryPeriodMs: Number(required('RETRY_PERIOD_MS')),
  },
});
manager.addController({
  name: 'replica',
  for: manager.informer(CONFIG_MAP, { namespace: required('WATCH_NAMESPACE') }),
  reconcile: async (req, ctx) => void ctx.log.info({ identity, key: req.key }, 'reconciled'),
});
await manager.run();
