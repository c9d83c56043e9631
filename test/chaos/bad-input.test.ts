import { describe, expect, it } from 'vitest';
import type { HostAggregate } from '../../src/api/types.generated.js';
import { getBay } from '../support/bays/cluster.js';
import { useBayTestEnvironment } from '../support/bays/environment.js';
import { recordChaos } from '../support/chaos/record.js';
import { mustKubectl, OPERATOR_NAMESPACE } from '../support/kubectl.js';
import { makeClientIdentity, ofBay, trustedTestIdentity } from '../support/lxd/index.js';
import { waitFor } from '../support/processes.js';

const env = useBayTestEnvironment('chaos-input');
const { kubectl } = env;
/** `marina run` in the test environment probes every 5 s (OperatorProcess's --probe-interval). */
const PROBE_INTERVAL_S = 5;

/** One wrong input an admin can give that admission cannot know to be wrong. */
interface BadInput {
  readonly what: string;
  /** The aggregate holding it, its `suite` label the bay selects. */
  readonly aggregate: string;
  readonly hostReason: string;
  readonly hostMessage: string;
  readonly aggregateYaml: () => Promise<string>;
}

const secretName = (aggregate: string): string => `${aggregate}-lxd`;

function httpsAggregateYaml(name: string): string {
  return `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${name}}
spec:
  metadata: {suite: ${name}}
  hosts:
    - {name: remote, endpoint: "${env.host.httpsEndpoint}", credentialsSecretRef: {name: ${secretName(name)}, namespace: ${OPERATOR_NAMESPACE}}}
  network: {mode: shared, bridge: ${env.host.bridge}}
  storagePool: ${env.host.storagePool}
  kernelModules: []
`;
}

const BAD: readonly BadInput[] = [
  {
    what: 'a host credentials Secret that does not exist',
    aggregate: `${env.namespace}-no-secret`,
    hostReason: 'CredentialsMissing',
    hostMessage: 'does not exist',
    aggregateYaml: async () => httpsAggregateYaml(`${env.namespace}-no-secret`),
  },
  {
    what: 'a host certificate other than the one pinned',
    aggregate: `${env.namespace}-wrong-cert`,
    hostReason: 'TlsFailure',
    hostMessage: 'the host presented certificate sha256:',
    aggregateYaml: async () => {
      const name = `${env.namespace}-wrong-cert`;
      // marina's client certificate is trusted; the host's own certificate is not the pinned one.
      const client = await trustedTestIdentity(env.host);
      const impostor = await makeClientIdentity('not-the-host');
      await mustKubectl(kubectl, ['create', 'secret', 'generic', secretName(name), '-n', OPERATOR_NAMESPACE,
        `--from-literal=tls.crt=${client.certificate}`, `--from-literal=tls.key=${client.key}`,
        `--from-literal=serverFingerprint=${impostor.fingerprint}`]);
      return httpsAggregateYaml(name);
    },
  },
  {
    what: 'a node image the host does not have',
    aggregate: `${env.namespace}-no-image`,
    hostReason: 'ImageMissing',
    hostMessage: 'marina-node/never-built',
    aggregateYaml: async () => `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${env.namespace}-no-image}
spec:
  metadata: {suite: ${env.namespace}-no-image}
  hosts:
    - {name: localhost, endpoint: "${env.host.socketEndpoint}"}
  image: marina-node/never-built
  network: {mode: shared, bridge: ${env.host.bridge}}
  storagePool: ${env.host.storagePool}
  kernelModules: []
`,
  },
];

async function aggregate(name: string): Promise<HostAggregate> {
  return JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', name, '-o', 'json'])) as HostAggregate;
}

const probes = (aggregateName: string): Promise<number> =>
  env.operator.metric('marina_host_probes_total', { aggregate: aggregateName });

async function eventReasons(fieldSelector: string, namespace?: string): Promise<string[]> {
  const scope = namespace ? ['-n', namespace] : ['-A'];
  const out = await mustKubectl(kubectl, ['get', 'events', ...scope, '--field-selector', fieldSelector, '-o', 'jsonpath={.items[*].reason}']);
  return out.split(' ').filter(Boolean);
}

describe('bad input beyond admission: a clear condition and Event, no crash, retries that back off', () => {
  it('a missing Secret, a wrong host certificate, a missing image, a flavor no host holds — all at once', async () => {
    const pid = env.operator.pid;
    try {
      for (const bad of BAD) await mustKubectl(kubectl, ['apply', '-f', '-'], { input: await bad.aggregateYaml() });
      for (const bad of BAD) await env.applyBay(`on-${bad.hostReason.toLowerCase()}`, { nodes: 1, suite: bad.aggregate });
      await env.applyBay('huge', { nodes: 1, cpu: 64 });

      for (const bad of BAD) {
        const host = await waitFor(`${bad.what}: ${bad.hostReason}`, async () => {
          const h = (await aggregate(bad.aggregate)).status?.hosts?.[0];
          return h?.reason === bad.hostReason ? h : undefined;
        }, 60_000, 500);
        expect(host.ready, bad.what).toBe(false);
        expect(host.message, bad.what).toContain(bad.hostMessage);
        expect(await eventReasons(`involvedObject.name=${bad.aggregate}`), bad.what).toContain(`Host${bad.hostReason}`);
        const bay = `on-${bad.hostReason.toLowerCase()}`;
        const ready = await waitFor(`${bay} to say why`, async () => {
          const c = (await getBay(kubectl, env.namespace, bay)).status?.conditions?.find((x) => x.type === 'NodesReady');
          return c?.status === 'False' && c.message.includes(bad.hostReason) ? c : undefined;
        }, 60_000, 500);
        expect(ready.reason, bad.what).toBe('Unschedulable');
        expect(await eventReasons(`involvedObject.name=${bay}`, env.namespace), bad.what).toContain('Unschedulable');
      }
      const huge = await waitFor('FlavorTooLarge', async () => {
        const c = (await getBay(kubectl, env.namespace, 'huge')).status?.conditions?.find((x) => x.type === 'Ready');
        return c?.reason === 'FlavorTooLarge' ? c : undefined;
      }, 60_000, 500);
      expect(huge.message).toContain('larger than any eligible host');
      expect(await eventReasons('involvedObject.name=huge', env.namespace)).toContain('FlavorTooLarge');

      // Retries back off: over 45 s a host that answers is probed every 5 s, a host that needs a person
      // at 10, 20, 40 s intervals; a bay that cannot be placed is not reconciled again and again.
      const watched = [env.aggregate, ...BAD.map((b) => b.aggregate)];
      const probesBefore = await Promise.all(watched.map(probes));
      const bayErrorsBefore = await env.operator.metric('marina_reconcile_errors_total', { controller: 'bay' });
      await new Promise((resolve) => setTimeout(resolve, 45_000));
      const probed = (await Promise.all(watched.map(probes))).map((n, i) => n - probesBefore[i]!);
      const bayErrors = (await env.operator.metric('marina_reconcile_errors_total', { controller: 'bay' })) - bayErrorsBefore;
      console.log(`probes in 45 s: ${watched.map((a, i) => `${a}=${probed[i]}`).join(', ')}; bay errors: ${bayErrors}`);
      expect(probed[0]).toBeGreaterThanOrEqual(45 / PROBE_INTERVAL_S - 2);
      for (const n of probed.slice(1)) expect(n).toBeLessThanOrEqual(3);
      expect(bayErrors).toBeLessThanOrEqual(8);

      // Nothing was built for any of them, and the operator never stopped.
      for (const name of ['huge', ...BAD.map((b) => `on-${b.hostReason.toLowerCase()}`)]) {
        const uid = (await getBay(kubectl, env.namespace, name)).metadata.uid;
        expect((await env.lxc.list()).filter(ofBay(uid)).map((i) => i.name), name).toEqual([]);
      }
      expect(env.operator.pid).toBe(pid);
      recordChaos({ fault: 'bad input: missing Secret, wrong host certificate, missing image, flavor too large', rounds: 4 });
    } finally {
      for (const bad of BAD) {
        await kubectl(['delete', 'bay', `on-${bad.hostReason.toLowerCase()}`, '-n', env.namespace, '--timeout=60s']);
        await kubectl(['delete', 'hostaggregate', bad.aggregate, '--wait=false']);
        await kubectl(['delete', 'secret', secretName(bad.aggregate), '-n', OPERATOR_NAMESPACE]);
      }
      await kubectl(['delete', 'bay', 'huge', '-n', env.namespace, '--timeout=60s']);
    }
  });
});
