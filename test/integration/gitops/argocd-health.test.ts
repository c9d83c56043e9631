import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argocdConfigMapScripts, argoHealth } from '../../support/gitops/argocd.js';
import { repoRoot } from '../../support/paths.js';

const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message });
const bay = (status: Record<string, unknown> | undefined, generation = 1) => ({
  apiVersion: 'marina.dev/v1alpha1',
  kind: 'Bay',
  metadata: { name: 'web', namespace: 'team-a', generation },
  ...(status ? { status } : {}),
});

describe("Argo CD's view of a Bay (real Lua 5.1 interpreter)", () => {
  it('a bay without status, or one whose latest spec marina has not seen, is Progressing', async () => {
    expect((await argoHealth('Bay', bay(undefined))).status).toBe('Progressing');
    const stale = bay({ observedGeneration: 1, phase: 'Ready', conditions: [condition('Ready', 'True', 'BayReady', 'ok')] }, 2);
    expect(await argoHealth('Bay', stale)).toEqual({ status: 'Progressing', message: 'marina has not acted on the latest spec yet' });
  });

  it('Ready is Healthy, also while certificates rotate; Stalled is Degraded with the reason', async () => {
    const ready = bay({ observedGeneration: 1, phase: 'Rotating', conditions: [condition('Ready', 'True', 'BayReady', '3 nodes in a swarm — ünïcode "quoted"\n1 line\t2')] });
    expect(await argoHealth('Bay', ready)).toEqual({ status: 'Healthy', message: '3 nodes in a swarm — ünïcode "quoted"\n1 line\t2' });
    const stalled = bay({ observedGeneration: 1, phase: 'Provisioning', conditions: [condition('Ready', 'False', 'FlavorTooLarge', 'too big'), condition('Stalled', 'True', 'FlavorTooLarge', 'too big')] });
    expect(await argoHealth('Bay', stalled)).toEqual({ status: 'Degraded', message: 'FlavorTooLarge: too big' });
  });

  it('a bay marina calls Degraded is Degraded; one being built is Progressing', async () => {
    const degraded = bay({ observedGeneration: 1, phase: 'Degraded', conditions: [condition('Ready', 'False', 'NodeLost', 'node web-1 is gone')] });
    expect(await argoHealth('Bay', degraded)).toEqual({ status: 'Degraded', message: 'NodeLost: node web-1 is gone' });
    const growing = bay({ observedGeneration: 1, phase: 'Growing', conditions: [condition('Ready', 'False', 'Provisioning', '2 of 3 nodes ready')] });
    expect((await argoHealth('Bay', growing)).status).toBe('Progressing');
  });

  it('a HostAggregate is Healthy with every host ready and Degraded otherwise', async () => {
    const aggregate = (status: string, message: string) => ({ kind: 'HostAggregate', metadata: { name: 'metal' }, status: { conditions: [condition('Ready', status, 'x', message)] } });
    expect(await argoHealth('HostAggregate', aggregate('True', '2 of 2 hosts ready'))).toEqual({ status: 'Healthy', message: '2 of 2 hosts ready' });
    expect((await argoHealth('HostAggregate', aggregate('False', '1 of 2 hosts not ready'))).status).toBe('Degraded');
    expect((await argoHealth('HostAggregate', { kind: 'HostAggregate', metadata: { name: 'new' } })).status).toBe('Progressing');
  });

  it('the argocd-cm snippet carries exactly the scripts that are tested', async () => {
    const data = await argocdConfigMapScripts();
    const script = (file: string): Promise<string> => readFile(join(repoRoot, 'deploy', 'argocd', file), 'utf8');
    expect(data['resource.customizations.health.marina.dev_Bay']).toBe(await script('bay-health.lua'));
    expect(data['resource.customizations.health.marina.dev_HostAggregate']).toBe(await script('hostaggregate-health.lua'));
  });
});
