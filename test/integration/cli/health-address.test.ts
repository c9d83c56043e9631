import { describe, expect, inject, it } from 'vitest';
import { OperatorProcess } from '../../support/bays/operator.js';
import { waitFor } from '../../support/processes.js';

const kubeconfig = inject('kubeconfigPath');

async function answers(address: string, port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${address}:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

describe('marina run --health-address', () => {
  it('127.0.0.1 keeps /metrics, /healthz and /readyz on the machine: another address of it is refused', async () => {
    const operator = new OperatorProcess(kubeconfig, ['--health-address', '127.0.0.1']);
    operator.start();
    try {
      const port = await waitFor('the health port', async () => operator.healthPort(), 60_000, 200);
      expect(await answers('127.0.0.1', port)).toBe(true);
      // 127.0.0.2 reaches this machine too, but not a listener bound to 127.0.0.1 alone.
      expect(await answers('127.0.0.2', port)).toBe(false);
    } finally {
      await operator.stop();
    }
  });
});
