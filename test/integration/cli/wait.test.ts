import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { kubectlFor, mustKubectl } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';
import { run } from '../../support/processes.js';

const kubeconfig = inject('kubeconfigPath');
const kubectl = kubectlFor(kubeconfig, inject('kubeBinDir'));
const NS = `cli-wait-${Date.now().toString(36)}`;

/** The real CLI, as a user runs it (stdout and stderr are not a terminal here: progress comes as lines). */
const marina = (args: readonly string[]) => run(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args, '--kubeconfig', kubeconfig], { timeoutMs: 60_000 });

const bay = (name: string): string => `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${name}, namespace: ${NS}}
spec: {nodes: 2}
`;

/** Writes status as the operator would (no operator runs in this file). */
async function setStatus(name: string, status: Record<string, unknown>): Promise<void> {
  await mustKubectl(kubectl, ['patch', 'bay', name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastTransitionTime: '2026-12-01T00:00:00Z', observedGeneration: 1 });

describe('marina wait', () => {
  it('shows progress as lines off a terminal and exits 0 with the endpoint once the bay is Ready', async () => {
    await mustKubectl(kubectl, ['create', 'namespace', NS]);
    await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bay('web') });
    await setStatus('web', { phase: 'Provisioning', readyNodes: 1, nodes: [{ name: 'web-0', index: 0, role: 'manager', state: 'Ready' }, { name: 'web-1', index: 1, role: 'worker', state: 'Provisioning' }], conditions: [condition('NodesReady', 'False', 'Provisioning', '1 of 2 nodes ready')] });
    const waiting = marina(['wait', 'web', '-n', NS, '--timeout', '30s']);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await setStatus('web', {
      phase: 'Ready',
      readyNodes: 2,
      endpoint: 'tcp://10.0.0.5:2376',
      conditions: [condition('Ready', 'True', 'BayReady', 'ok'), condition('NodesReady', 'True', 'AllNodesReady', '2 of 2 nodes ready')],
    });
    const done = await waiting;
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/^\d+s Provisioning: 1\/2 nodes ready \(1 provisioning, 1 ready\) — NodesReady Provisioning: 1 of 2 nodes ready$/m);
    expect(done.stdout).toContain(`bay ${NS}/web is Ready at tcp://10.0.0.5:2376`);
  });

  it('prints the bay as JSON with -o json', async () => {
    const done = await marina(['wait', 'web', '-n', NS, '-o', 'json']);
    expect(done.code).toBe(0);
    expect((JSON.parse(done.stdout) as { status: { endpoint: string } }).status.endpoint).toBe('tcp://10.0.0.5:2376');
  });

  it('exits 1 at once for a bay that needs a person, saying why', async () => {
    await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bay('huge') });
    await setStatus('huge', { phase: 'Provisioning', conditions: [condition('Ready', 'False', 'FlavorTooLarge', 'the flavor is larger than any eligible host')] });
    const done = await marina(['wait', 'huge', '-n', NS, '--timeout', '30s']);
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('needs a person: FlavorTooLarge: the flavor is larger than any eligible host');
  });

  it('exits 3 when the timeout passes first, and 2 on a wrong option', async () => {
    await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bay('slow') });
    const late = await marina(['wait', 'slow', '-n', NS, '--timeout', '2s']);
    expect(late.code).toBe(3);
    expect(late.stderr).toContain('timed out after 2s');
    expect((await marina(['wait', 'slow', '-n', NS, '-o', 'xml'])).code).toBe(2);
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });
});
