import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exampleFiles, fixturesJudgedOffline, invalidFixtures } from '../../support/fixtures.js';
import { mintUser } from '../../support/kube-env.js';
import { kubectlFor, mustKubectl } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';
import { run } from '../../support/processes.js';

const kubectl = kubectlFor(inject('kubeconfigPath'), inject('kubeBinDir'));
const NS = 'marina-fixtures';

describe('the Bay and HostAggregate CRDs on a real kube-apiserver', () => {
  beforeAll(async () => {
    await mustKubectl(kubectl, ['create', 'namespace', NS]);
  });
  afterAll(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  describe('the examples', () => {
    afterAll(async () => {
      for (const file of exampleFiles()) await kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', file]);
    });

    it.each(exampleFiles())('%s applies with kubectl', async (file) => {
      const result = await kubectl(['apply', '-f', file]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    it('kubectl get bays shows COE, MANAGERS, NODES, READY, PHASE, reserved CPU% and MEM%, ENDPOINT and AGE', async () => {
      const out = await mustKubectl(kubectl, ['get', 'bays', '-n', 'team-a']);
      const [header, row] = out.trim().split('\n');
      expect(header!.split(/\s+/)).toEqual(['NAME', 'COE', 'MANAGERS', 'NODES', 'READY', 'PHASE', 'CPU%', 'MEM%', 'ENDPOINT', 'AGE']);
      expect(row!.split(/\s+/).slice(0, 4)).toEqual(['web', 'swarm', '1', '3']);
    });

    it('kubectl get marina lists both kinds through the category and short names', async () => {
      const out = await mustKubectl(kubectl, ['get', 'marina', '-A', '-o', 'name']);
      expect(out).toContain('bay.marina.dev/web');
      expect(out).toContain('hostaggregate.marina.dev/local');
      expect(await mustKubectl(kubectl, ['get', 'by', '-n', 'team-a', '-o', 'name'])).toContain('bay.marina.dev/web');
      expect(await mustKubectl(kubectl, ['get', 'hagg', '-o', 'name'])).toContain('hostaggregate.marina.dev/metal-dfw');
    });

    it('the apiserver fills in Carina’s node size and the other defaults', async () => {
      const bay = JSON.parse(await mustKubectl(kubectl, ['get', 'bay', 'sandbox', '-n', 'default', '-o', 'json']));
      expect(bay.spec).toEqual({
        coe: 'swarm',
        managers: 1,
        nodes: 1,
        flavor: { cpu: 2, memory: '4Gi', disk: '20Gi' },
        tls: { certificateValidity: '2160h', renewBefore: '720h', caOverlap: '24h' },
        deletionPolicy: 'Delete',
        upgradePolicy: 'Manual',
      });
      const aggregate = JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', 'local', '-o', 'json']));
      expect(aggregate.spec.hosts[0].cordoned).toBe(false);
      expect(aggregate.spec.hosts[0].evacuate).toBe(false);
      expect(aggregate.spec.image).toBe('marina-node/bookworm');
      expect(aggregate.spec.storagePool).toBe('default');
    });
  });

  it('kubectl explain bay.spec.nodes prints its description', async () => {
    const out = await mustKubectl(kubectl, ['explain', 'bay.spec.nodes']);
    expect(out).toContain('FIELD: nodes <integer>');
    expect(out.replace(/\s+/g, ' ')).toContain('it can never be lowered, because marina never deletes a live node');
  });

  it('kubectl explain hostaggregate.spec.hosts.endpoint teaches both endpoint forms', async () => {
    const out = (await mustKubectl(kubectl, ['explain', 'hostaggregate.spec.hosts.endpoint'])).replace(/\s+/g, ' ');
    expect(out).toContain('https://address:port');
    expect(out).toContain('unix:///path/to/unix.socket');
  });

  it('kubectl wait sees a condition set through the status subresource, and only there', async () => {
    await mustKubectl(kubectl, ['apply', '-n', NS, '-f', '-'], { input: 'apiVersion: marina.dev/v1alpha1\nkind: Bay\nmetadata: {name: waited}\nspec: {nodes: 1}\n' });
    const waiting = kubectl(['wait', '-n', NS, '--for=condition=Ready', '--timeout=60s', 'bay/waited']);
    const condition = { type: 'Ready', status: 'True', reason: 'SwarmReady', message: 'all nodes ready', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    // A status written through the main resource is ignored...
    await mustKubectl(kubectl, ['patch', '-n', NS, 'bay/waited', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Ready' } })]);
    expect(await mustKubectl(kubectl, ['get', '-n', NS, 'bay/waited', '-o', 'jsonpath={.status}'])).toBe('');
    // ...and one written through the status subresource is what kubectl wait sees.
    await mustKubectl(kubectl, ['patch', '-n', NS, 'bay/waited', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Ready', conditions: [condition] } })]);
    const result = await waiting;
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('bay.marina.dev/waited condition met');
  });

  describe('invalid manifests', () => {
    it.each(invalidFixtures().map((f) => [f.file, f] as const))('%s is rejected with a clear message', async (_file, fixture) => {
      if (fixture.change) {
        await mustKubectl(kubectl, ['apply', '-n', NS, '-f', '-'], { input: fixture.change.existing });
        const result = await kubectl(['apply', '-n', NS, '-f', '-'], { input: fixture.change.update });
        expect(result.code, fixture.why).not.toBe(0);
        expect(result.stderr.replace(/\s*\n\s*/g, ' ')).toContain(fixture.apiserverSays);
        return;
      }
      const result = await kubectl(['apply', '-f', fixture.path]);
      expect(result.code, fixture.why).not.toBe(0);
      expect(result.stderr).toContain(fixture.apiserverSays);
      expect(await mustKubectl(kubectl, ['get', 'bays,hostaggregates', '-n', NS, '-o', 'name', '--field-selector', 'metadata.name=fx'])).toBe('');
    });
  });

  it('RBAC is on: a new identity may not touch bays until a Role allows it', async () => {
    const kubeconfig = await mintUser(inject('kubeEnvDir'), 'alice');
    const denied = await kubectl(['get', 'bays', '-n', NS], { kubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('forbidden');
    await mustKubectl(kubectl, ['create', 'role', 'bay-reader', '-n', NS, '--verb=get,list', '--resource=bays.marina.dev']);
    await mustKubectl(kubectl, ['create', 'rolebinding', 'alice-reads-bays', '-n', NS, '--role=bay-reader', '--user=alice']);
    const allowed = await kubectl(['get', 'bays', '-n', NS], { kubeconfig });
    expect(allowed.stderr).not.toContain('forbidden');
    expect(allowed.code).toBe(0);
  });
});

describe('marina validate on the command line', () => {
  const marina = (args: string[]) => run(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args]);

  it('exits 0 for the examples directory', async () => {
    const result = await marina(['validate', '-f', join(repoRoot, 'examples')]);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('exits non-zero and prints file:document: path: message for each problem', async () => {
    const fixtures = fixturesJudgedOffline();
    const result = await marina(['validate', '-f', ...fixtures.map((f) => f.path)]);
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    for (const fixture of fixtures) {
      expect(lines.some((l) => l.startsWith(`${fixture.path}:`) && l.includes(fixture.validateSays)), fixture.file).toBe(true);
    }
    expect(lines.every((l) => /^.+\.yaml:\d+: \S.*: .+$/.test(l))).toBe(true);
  });
});

