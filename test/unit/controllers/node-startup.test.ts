import { describe, expect, it } from 'vitest';
import type { BayNodeStatus } from '../../../src/api/types.generated.js';
import { startupOverdueMs } from '../../../src/controllers/bay/nodes.js';
import { nodeInfoFromInstance } from '../../../src/hosts/lxd/node-config.js';

const TIMEOUT = 180_000;
const now = Date.parse('2026-12-02T12:00:00Z');
const startedAgo = (ms: number): Date => new Date(now - ms);
const recorded = (state: BayNodeStatus['state']): BayNodeStatus => ({ name: 'web-0', index: 0, role: 'worker', state });

describe('a node never ready within its startup timeout is restarted', () => {
  it('only once the timeout has passed since its last start', () => {
    expect(startupOverdueMs(recorded('Running'), startedAgo(TIMEOUT - 1), TIMEOUT, now)).toBeUndefined();
    expect(startupOverdueMs(recorded('Running'), startedAgo(TIMEOUT + 5_000), TIMEOUT, now)).toBe(TIMEOUT + 5_000);
    expect(startupOverdueMs(undefined, startedAgo(TIMEOUT + 1), TIMEOUT, now)).toBe(TIMEOUT + 1);
    expect(startupOverdueMs(recorded('Provisioning'), startedAgo(TIMEOUT + 1), TIMEOUT, now)).toBe(TIMEOUT + 1);
  });

  it('never when it may run tenant containers (was Ready, is drained or replaced) or was lost', () => {
    for (const state of ['Ready', 'Draining', 'Retiring', 'Lost'] as const) {
      expect(startupOverdueMs(recorded(state), startedAgo(10 * TIMEOUT), TIMEOUT, now)).toBeUndefined();
    }
  });

  it('never when the host does not say when it started', () => {
    expect(startupOverdueMs(recorded('Running'), undefined, TIMEOUT, now)).toBeUndefined();
  });
});

describe("a node's last start, as LXD and Incus report it", () => {
  const instance = (lastUsedAt: string | undefined) => ({
    name: 'web-0',
    status: 'Running',
    status_code: 103,
    created_at: '2026-12-02T11:00:00Z',
    ...(lastUsedAt === undefined ? {} : { last_used_at: lastUsedAt }),
    config: {},
    devices: {},
  });

  it('is last_used_at, which a start sets', () => {
    expect(nodeInfoFromInstance('h', instance('2026-12-02T11:00:05.25Z'), undefined).startedAt).toEqual(
      new Date('2026-12-02T11:00:05.25Z'),
    );
  });

  it('is unknown before the first start (the zero time) or when not reported', () => {
    expect(nodeInfoFromInstance('h', instance('0001-01-01T00:00:00Z'), undefined).startedAt).toBeUndefined();
    expect(nodeInfoFromInstance('h', instance(undefined), undefined).startedAt).toBeUndefined();
  });
});
