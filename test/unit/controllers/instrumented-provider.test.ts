import { describe, expect, it } from 'vitest';
import { instrumentedProvider } from '../../../src/controllers/hosts/instrumented-provider.js';
import { HostUnreachableError, type HostProvider } from '../../../src/hosts/index.js';

describe('host calls are counted by host, operation and outcome', () => {
  it('counts successes and failures with the error code, and passes results and errors through', async () => {
    const seen: string[] = [];
    const inner = {
      name: 'h1',
      listNodes: async () => [],
      startNode: async () => {
        throw new HostUnreachableError({ host: 'h1', operation: 'start-node' }, 'refused');
      },
      close: () => seen.push('closed'),
    } as unknown as HostProvider;
    const provider = instrumentedProvider(inner, (host, operation, outcome) => seen.push(`${host} ${operation} ${outcome}`));
    expect(await provider.listNodes({})).toEqual([]);
    await expect(provider.startNode('web-0')).rejects.toBeInstanceOf(HostUnreachableError);
    provider.close();
    expect(provider.name).toBe('h1');
    expect(seen).toEqual(['h1 list-nodes ok', 'h1 start-node unreachable', 'closed']);
  });
});
