import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { discoverBayNodes, hostAwayReason } from '../../../src/controllers/bay/discovery.js';
import { HostInventory } from '../../../src/controllers/hosts/inventory.js';
import { HostRegistry } from '../../../src/controllers/hosts/registry.js';
import { HostUnreachableError, type HostProvider } from '../../../src/hosts/index.js';
import { testAggregate, testBay, testCapacity, testNode } from '../../support/builders.js';

/** Two aggregates that list the same machine (one endpoint), as Nova lets a host be in several aggregates. */
function sharedMachine(calls: { observe: number }) {
  const provider = {
    name: 'h1',
    observe: async () => {
      calls.observe += 1;
      return { capacity: testCapacity(), nodes: [testNode('web-abc-0')] };
    },
    close: () => {},
  } as unknown as HostProvider;
  const registry = new HostRegistry({ secret: () => undefined, credentialNamespaces: new Set(['marina-system']), log: pino({ level: 'silent' }), factory: () => provider });
  const endpoint = 'unix:///run/shared.socket';
  const a = testAggregate('fast', { hosts: [{ name: 'h1', endpoint, cordoned: false, evacuate: false }] });
  const b = testAggregate('slow', { hosts: [{ name: 'h1', endpoint, cordoned: false, evacuate: false }] });
  return { registry, aggregates: [a, b] };
}

describe('discovery', () => {
  it('observes a machine once, and shows each node once, under the aggregate status recorded for it', async () => {
    const calls = { observe: 0 };
    const { registry, aggregates } = sharedMachine(calls);
    const bay = testBay({ status: { nodes: [{ name: 'web-abc-0', index: 0, role: 'manager', aggregate: 'slow', host: 'h1', state: 'Ready' }] } });
    const discovery = await discoverBayNodes(bay, aggregates, registry, new HostInventory(), 60_000);
    expect(calls.observe).toBe(1);
    expect(discovery.discovered.map((d) => [d.name, d.aggregate])).toEqual([['web-abc-0', 'slow']]);
  });

  it('never reads host credentials from a tenant’s namespace', () => {
    const registry = new HostRegistry({ secret: () => undefined, credentialNamespaces: new Set(['marina-system']), log: pino({ level: 'silent' }) });
    const aggregate = testAggregate('metal', { hosts: [{ name: 'h1', endpoint: 'https://10.0.0.1:8443', cordoned: false, evacuate: false, credentialsSecretRef: { name: 'h1', namespace: 'team-a' } }] });
    expect(registry.handle(aggregate, aggregate.spec.hosts[0]!)).toMatchObject({ ok: false, reason: 'CredentialsNotAllowed' });
  });
});

describe('what a tenant reads of a host that is away', () => {
  it('the kind of failure, never the endpoint or the raw error', () => {
    const error = new HostUnreachableError({ host: 'unix:///var/lib/lxd/unix.socket', operation: 'observe' }, 'connect ECONNREFUSED /var/lib/lxd/unix.socket');
    expect(error.message).toContain('/var/lib/lxd');
    expect(hostAwayReason(error)).toBe('it does not answer');
    expect(hostAwayReason(new Error('something at 10.0.0.1'))).toBe('it could not be observed');
  });
});
