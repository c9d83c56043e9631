import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Bay } from '../../../src/api/types.generated.js';
import { MarinaMetrics } from '../../../src/controllers/metrics.js';
import { testBay } from '../../support/builders.js';

async function sample(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

describe("marina's autoscaling and certificate metrics", () => {
  const autoscaled: Bay = testBay({ name: 'web', namespace: 'team-a', status: {
    usage: { cpuPercent: 42, memoryPercent: 86 },
    certificates: { caNotAfter: '2029-01-01T00:00:00Z', clientNotAfter: '2027-03-01T00:00:00Z', operatorNotAfter: '2027-02-01T00:00:00Z' },
  } });

  it('reserved percent per bay and resource comes from status; scale-ups are counted per bay', async () => {
    const registry = new Registry();
    const metrics = new MarinaMetrics(registry, () => [autoscaled]);
    expect(await sample(registry, 'marina_bay_reserved_percent', { bay: 'web', resource: 'cpu' })).toBe(42);
    expect(await sample(registry, 'marina_bay_reserved_percent', { bay: 'web', resource: 'memory' })).toBe(86);
    metrics.scaledUp(autoscaled);
    metrics.scaledUp(autoscaled);
    expect(await sample(registry, 'marina_autoscale_scale_ups_total', { namespace: 'team-a', bay: 'web' })).toBe(2);
  });

  it("the earliest expiry counts marina's own client certificate", async () => {
    const registry = new Registry();
    new MarinaMetrics(registry, () => [autoscaled]);
    expect(await sample(registry, 'marina_bay_certificate_expiry_timestamp_seconds', { bay: 'web' })).toBe(Date.parse('2027-02-01T00:00:00Z') / 1000);
  });
});
