import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectlFor, mustKubectl } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';

const kubectl = kubectlFor(inject('kubeconfigPath'), inject('kubeBinDir'));
const operator = 'system:serviceaccount:marina-system:marina-operator';

/** `resource` may end in /status for the subresource (kubectl reads resource/name otherwise). */
async function canI(verb: string, resource: string, namespace = 'team-x'): Promise<boolean> {
  const [kind, subresource] = resource.split('/');
  const args = ['auth', 'can-i', verb, kind!, '-n', namespace, `--as=${operator}`, ...(subresource ? [`--subresource=${subresource}`] : [])];
  const result = await kubectl(args);
  return result.stdout.trim() === 'yes';
}

describe('the install manifests in deploy/', () => {
  beforeAll(async () => {
    await mustKubectl(kubectl, ['apply', '-f', join(repoRoot, 'deploy', 'operator.yaml')]);
  });

  it.each([
    ['watch', 'bays.marina.dev'],
    ['patch', 'bays.marina.dev/status'],
    ['patch', 'bays.marina.dev'],
    ['watch', 'hostaggregates.marina.dev'],
    ['patch', 'hostaggregates.marina.dev/status'],
    ['create', 'secrets'],
    ['delete', 'secrets'],
    ['get', 'namespaces'],
    ['create', 'events.events.k8s.io'],
  ])('let the operator %s %s', async (verb, resource) => {
    expect(await canI(verb, resource)).toBe(true);
  });

  it.each([
    ['delete', 'bays.marina.dev'],
    ['create', 'bays.marina.dev'],
    ['update', 'hostaggregates.marina.dev'],
    ['patch', 'hostaggregates.marina.dev'],
    ['delete', 'namespaces'],
    ['create', 'pods'],
  ])('do not let the operator %s %s: it never writes what users own', async (verb, resource) => {
    expect(await canI(verb, resource)).toBe(false);
  });

  it('let the operator hold its leader-election Lease only in marina-system', async () => {
    expect(await canI('update', 'leases.coordination.k8s.io', 'marina-system')).toBe(true);
    expect(await canI('update', 'leases.coordination.k8s.io', 'team-x')).toBe(false);
  });
});
