import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout marina runs from: the playground runs its scripts and applies its manifests. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Loopback ports of the playground's control plane and operator. */
export const PLAYGROUND_PORTS = {
  etcdClient: 23791,
  etcdPeer: 23801,
  apiserver: 16443,
  operatorHealth: 18080,
} as const;

/**
 * The playground's own host bridge and subnet, and the pool its bays' own bridges take their subnets
 * from (isolated mode): `marina down` removes networks nothing else uses.
 */
export const PLAYGROUND_NETWORK = {
  bridge: 'marinapg0',
  subnet: '10.213.90.1/24',
  subnetPool: '10.213.96.0/20',
} as const;

/** The HostAggregate `marina up` writes for this machine; examples/bay.yaml selects it. */
export const PLAYGROUND_AGGREGATE = 'playground';

export interface PlaygroundPaths {
  readonly dir: string;
  readonly pki: string;
  readonly etcdData: string;
  readonly logs: string;
  readonly run: string;
  /** The admin kubeconfig a user exports (client certificate in system:masters). */
  readonly adminKubeconfig: string;
  /** The operator's kubeconfig: a bound token of its ServiceAccount, nothing more. */
  readonly operatorKubeconfig: string;
  /** What `marina up` found or started, for `marina down`. */
  readonly stateFile: string;
  /** kubectl and marina, for the user's PATH. */
  readonly bin: string;
  /** A shell snippet to source: PATH and KUBECONFIG for the playground. */
  readonly envFile: string;
}

/** Everything of the playground lives under one directory (default /var/lib/marina/playground). */
export function playgroundPaths(
  dir = process.env['MARINA_PLAYGROUND_DIR'] ?? '/var/lib/marina/playground',
): PlaygroundPaths {
  return {
    dir,
    pki: join(dir, 'pki'),
    etcdData: join(dir, 'etcd'),
    logs: join(dir, 'logs'),
    run: join(dir, 'run'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    operatorKubeconfig: join(dir, 'operator.kubeconfig'),
    stateFile: join(dir, 'state.json'),
    bin: join(dir, 'bin'),
    envFile: join(dir, 'env'),
  };
}
