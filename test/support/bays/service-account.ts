import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { mustKubectl, type Kubectl } from '../kubectl.js';
import { repoRoot } from '../paths.js';

/** The operator's ServiceAccount as deploy/operator.yaml defines it. */
export const OPERATOR_SERVICE_ACCOUNT = { namespace: 'marina-system', name: 'marina-operator' } as const;

/**
 * Installs deploy/operator.yaml's RBAC (and its Deployment, which nothing runs in the test cluster) and
 * writes a kubeconfig that authenticates as the operator's ServiceAccount with a bound token: what a
 * Pod of that Deployment would hold, so the operator runs with exactly the rights it ships with.
 */
export async function operatorServiceAccountKubeconfig(kubectl: Kubectl, adminKubeconfig: string): Promise<string> {
  await mustKubectl(kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'operator.yaml')]);
  const { namespace, name } = OPERATOR_SERVICE_ACCOUNT;
  const token = (await mustKubectl(kubectl, ['create', 'token', name, '-n', namespace, '--duration', '2h'])).trim();
  const admin = parse(await readFile(adminKubeconfig, 'utf8')) as { clusters: unknown[]; contexts: { context: { cluster: string } }[] };
  const cluster = admin.contexts[0]!.context.cluster;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: admin.clusters,
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster, user: name, namespace } }],
    'current-context': name,
  };
  const path = join(dirname(adminKubeconfig), `${name}.kubeconfig`);
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
