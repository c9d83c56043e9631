import { isHostError, type HostProvider } from '../../hosts/index.js';
import type { HostCallObserver } from '../metrics.js';

/** The provider methods that reach the host; `name` and `close` do not. */
const CALLS = [
  'ensureNode',
  'reconfigureNode',
  'getNode',
  'nodeState',
  'listNodes',
  'startNode',
  'stopNode',
  'releaseNode',
  'deleteNode',
  'pushFiles',
  'exec',
  'probe',
  'capacity',
  'observe',
  'findImage',
  'getBridge',
  'ensureBayNetwork',
  'deleteBayNetwork',
] as const satisfies readonly (keyof HostProvider)[];

type Call = (typeof CALLS)[number];

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The provider with every call counted and timed, by host and operation: what shows whether host
 * traffic grows with hosts or with bays × hosts.
 */
export function instrumentedProvider(provider: HostProvider, observe: HostCallObserver): HostProvider {
  const wrapped: Partial<Record<Call, unknown>> = {};
  for (const call of CALLS) {
    const method = provider[call] as (...args: unknown[]) => Promise<unknown>;
    const operation = kebab(call);
    wrapped[call] = async (...args: unknown[]): Promise<unknown> => {
      const started = performance.now();
      let outcome = 'ok';
      try {
        return await method.apply(provider, args);
      } catch (err) {
        outcome = isHostError(err) ? err.code : 'error';
        throw err;
      } finally {
        observe(provider.name, operation, outcome, (performance.now() - started) / 1000);
      }
    };
  }
  return {
    ...(wrapped as Pick<HostProvider, Call>),
    get name() {
      return provider.name;
    },
    close: () => provider.close(),
  };
}
