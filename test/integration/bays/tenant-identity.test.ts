import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SimOperator } from '../../support/bays/sim-operator.js';
import { mintUser } from '../../support/kube-env.js';
import { mustKubectl, OPERATOR_NAMESPACE } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';

// Two tenants, each bound to deploy/tenant-role.yaml in its own namespace only, as the file tells admins to.
let sim: SimOperator;
let other: string;
let mine: string;
let yours: string;

const as = (kubeconfig: string, args: readonly string[]) => sim.kubectl(args, { kubeconfig });
const refused = async (kubeconfig: string, args: readonly string[]): Promise<void> => {
  const result = await as(kubeconfig, args);
  expect(result.code, `${args.join(' ')} was allowed`).not.toBe(0);
  expect(result.stderr).toContain('forbidden');
};

beforeAll(async () => {
  sim = await SimOperator.start(inject('kubeconfigPath'), inject('kubeBinDir'));
  other = `${sim.namespace}-other`;
  await mustKubectl(sim.kubectl, ['create', 'namespace', other]);
  await mustKubectl(sim.kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'tenant-role.yaml')]);
  for (const [namespace, user] of [
    [sim.namespace, `${sim.namespace}-tenant`],
    [other, `${other}-tenant`],
  ] as const) {
    await mustKubectl(sim.kubectl, [
      'create', 'rolebinding', 'tenant', '-n', namespace, '--clusterrole=marina-tenant', `--user=${user}`,
    ]);
  }
  mine = await mintUser(inject('kubeEnvDir'), `${sim.namespace}-tenant`);
  yours = await mintUser(inject('kubeEnvDir'), `${other}-tenant`);
  await sim.applyBay('web', { nodes: 1 });
  await sim.waitReady('web');
});

afterAll(async () => {
  await sim.kubectl(['delete', 'namespace', other, '--wait=false']);
  await sim.stop();
});

describe('a tenant identity (client certificate, the marina-tenant role in its namespace)', () => {
  it('reads its own bay, its status and its credentials bundle', async () => {
    const bay = await as(mine, ['get', 'bay', 'web', '-n', sim.namespace, '-o', 'jsonpath={.status.phase}']);
    expect(bay.stdout).toBe('Ready');
    const bundle = await as(mine, ['get', 'secret', 'web-credentials', '-n', sim.namespace, '-o', 'name']);
    expect(bundle.code, bundle.stderr).toBe(0);
  });

  it("cannot read another namespace's bays or Secrets", async () => {
    await refused(yours, ['get', 'bays', '-n', sim.namespace]);
    await refused(yours, ['get', 'bay', 'web', '-n', sim.namespace]);
    await refused(yours, ['get', 'secrets', '-n', sim.namespace]);
    await refused(yours, ['get', 'secret', 'web-credentials', '-n', sim.namespace]);
    await refused(yours, ['get', 'bays', '--all-namespaces']);
  });

  it("cannot read any bay's CA key, nor the hosts' credentials: they live in the operator's namespace", async () => {
    const cas = await mustKubectl(sim.kubectl, ['get', 'secrets', '-n', OPERATOR_NAMESPACE, '-o', 'name']);
    expect(cas).toContain('secret/');
    for (const tenant of [mine, yours]) {
      await refused(tenant, ['get', 'secrets', '-n', OPERATOR_NAMESPACE]);
      for (const name of cas.split('\n').filter(Boolean).slice(0, 3)) {
        await refused(tenant, ['get', name, '-n', OPERATOR_NAMESPACE]);
      }
    }
  });

  it('cannot read HostAggregates (hosts, endpoints, capacity), nor change its namespace or quotas', async () => {
    await refused(mine, ['get', 'hostaggregates']);
    await refused(mine, ['get', 'hostaggregate', sim.aggregate]);
    await refused(mine, ['label', 'namespace', sim.namespace, 'tenant=elsewhere']);
    await refused(mine, ['create', 'quota', 'more', '-n', sim.namespace, '--hard=count/bays.marina.dev=100']);
  });
});
