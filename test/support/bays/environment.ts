import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import {
  clusterPrivateKeys,
  describeFindings,
  eventTexts,
  findKeyMaterial,
  logTexts,
  marinaObjectTexts,
  SecretKeyWatch,
  type ScannedText,
} from '../key-material.js';
import { ensureOperatorNamespace, kubectlFor, mustKubectl, type Kubectl } from '../kubectl.js';
import {
  inNamespace,
  leftByCrashedRuns,
  lxcFor,
  lxdTestHost,
  sweepBayNetworks,
  sweepInstances,
  testNodeImage,
} from '../lxd/index.js';
import type { LxcCli, LxdTestHost } from '../lxd/index.js';
import { bayYaml, getBay, hostAggregateYaml, type BaySpecInput, type BayView, type E2eNetwork } from './cluster.js';
import { forgetFleetTrust, prepareFleet, type TrustedClient } from './fleet.js';
import { OperatorProcess } from './operator.js';

export interface BayTestEnvironment {
  readonly namespace: string;
  readonly aggregate: string;
  readonly kubeconfig: string;
  readonly kubectl: Kubectl;
  /** Set once beforeAll has run. */
  host: LxdTestHost;
  /** The real `lxc` CLI on the host: how a test looks at nodes (and interferes with them) behind marina's back. */
  lxc: LxcCli;
  operator: OperatorProcess;
  /** Set in beforeAll for `hosts: 'fleet'`. */
  fleet?: FleetHosts;
  applyBay(name: string, spec: BaySpecInput): Promise<void>;
  /**
   * kubectl wait for Ready (in the test's namespace unless another is named); on failure the error
   * carries the bay's status and the operator's last log lines.
   */
  waitReady(name: string, inNamespace?: string): Promise<BayView>;
}

/**
 * The set-up every bay e2e file shares: the real LXD host and node image, a tenant namespace, a
 * HostAggregate for the local host, and `marina run` as a process. Registers its own beforeAll and
 * afterAll; everything the file's bays leave on the host is swept afterwards, and the file fails if
 * private key material showed up where a tenant or an operator log can show it.
 *
 * The namespace is `<prefix>-<random>`: node names derive from the namespace, and two runs of the same
 * file (from two checkouts) may share the LXD host; with one fixed namespace they would fight over the
 * same instance names and sweep each other's nodes.
 */
export interface BayTestOptions {
  /** The aggregate's network mode; shared (the test host's bridge) unless a file is about walls. */
  readonly network?: E2eNetwork;
  /**
   * fleet: two real hosts over HTTPS, LXD and the Incus daemon beside it, trusted through trust tokens,
   * on the network they share (bridged mode). Default: the LXD host over its unix socket.
   */
  readonly hosts?: 'local' | 'fleet';
}

/** The second host of a fleet environment, and the two hosts as the aggregate names them. */
export interface FleetHosts {
  readonly incusHost: LxdTestHost;
  /** The real `incus` CLI. */
  readonly incus: LxcCli;
  /** Host names in the aggregate → the daemon's CLI. */
  readonly byName: ReadonlyMap<string, LxcCli>;
  /** The SHA-256 fingerprint of the client certificate marina presents to both hosts. */
  readonly clientFingerprint: string;
}

export function useBayTestEnvironment(prefix: string, options: BayTestOptions = {}): BayTestEnvironment {
  const namespace = `${prefix}-${randomBytes(2).toString('hex')}`;
  const aggregate = `${namespace}-local`;
  const kubeconfig = inject('kubeconfigPath');
  const kubectl = kubectlFor(kubeconfig, inject('kubeBinDir'));
  const secretKeys = new SecretKeyWatch(join(inject('kubeBinDir'), 'kubectl'), kubeconfig);
  const env = {
    namespace,
    aggregate,
    kubeconfig,
    kubectl,
    async applyBay(name: string, spec: BaySpecInput) {
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bayYaml(name, namespace, spec) });
    },
    async waitReady(name: string, inNamespace = namespace) {
      const waited = await kubectl(['wait', '-n', inNamespace, '--for=condition=Ready', '--timeout=300s', `bay/${name}`]);
      if (waited.code !== 0) {
        const status = JSON.stringify((await getBay(kubectl, inNamespace, name)).status, null, 1);
        throw new Error(`bay ${name} not Ready: ${waited.stderr}\n${status}\n${env.operator.logTail()}`);
      }
      return getBay(kubectl, inNamespace, name);
    },
  } as BayTestEnvironment;
  const trustedByFleet: TrustedClient[] = [];

  beforeAll(async () => {
    // Keys of Secrets deleted during the file (a bay deleted under Delete) must still be recognised.
    secretKeys.start();
    env.host = await lxdTestHost();
    await testNodeImage(env.host);
    env.lxc = lxcFor(env.host);
    await sweepInstances(env.lxc, leftByCrashedRuns(prefix));
    await ensureOperatorNamespace(kubectl);
    await mustKubectl(kubectl, ['create', 'namespace', namespace]);
    await mustKubectl(kubectl, ['label', 'namespace', namespace, 'tenant=true']);
    if (options.hosts === 'fleet') {
      const fleet = await prepareFleet(kubectl, namespace, env.host, env.lxc, prefix);
      env.fleet = fleet.hosts;
      trustedByFleet.push(...fleet.trusted);
      await mustKubectl(kubectl, ['apply', '-f', '-'], { input: fleet.aggregateYaml(aggregate) });
    } else {
      await mustKubectl(kubectl, ['apply', '-f', '-'], {
        input: hostAggregateYaml(aggregate, env.host, options.network),
      });
    }
    env.operator = new OperatorProcess(kubeconfig);
    env.operator.start();
    await mustKubectl(kubectl, ['wait', '--for=condition=Ready', '--timeout=120s', `hostaggregate/${aggregate}`]);
  });

  // A failed e2e test is read after the fact, on another machine: print what the operator saw.
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail' || !env.operator) return;
    const bays = await kubectl(['get', 'bays', '-n', namespace, '-o', 'yaml']);
    console.error(`--- bays of ${namespace} ---\n${bays.stdout}\n--- operator log ---\n${env.operator.logTail(200)}`);
  });

  afterAll(async () => {
    // The bays' status as the tenant last saw it, read before their deletion removes them; a failure
    // to read it fails the file once the clean-up below is done.
    const statuses = await marinaObjectTexts(kubectl).then(
      (texts) => () => texts,
      (error: unknown) => () => {
        throw error;
      },
    );
    // Bays go first, while the operator still runs their finalizers: a bay left behind would be
    // reconciled by the next file's operator, which would replace the nodes swept below.
    await kubectl(['delete', 'bays', '--all', '-n', namespace, '--timeout=180s']);
    await env.operator?.stop();
    // Released nodes (Retain) too: they carry the namespace key whatever marina thinks of them.
    if (env.lxc) {
      await sweepInstances(env.lxc, inNamespace(namespace));
      await sweepBayNetworks(env.lxc, namespace);
    }
    if (env.fleet) await sweepInstances(env.fleet.incus, inNamespace(namespace));
    await forgetFleetTrust(kubectl, trustedByFleet);
    let leaks = '';
    try {
      const operatorLog = logTexts('operator log', env.operator?.logLines() ?? []);
      leaks = await keyMaterialReport(kubectl, secretKeys, [...statuses(), ...operatorLog]);
    } finally {
      await secretKeys.stop();
      await releaseAndDelete(kubectl, namespace, aggregate);
    }
    if (leaks) throw new Error(`private key material where a tenant or an operator log can show it:\n${leaks}`);
  });

  return env;
}

/**
 * Scans the texts given, and every Event in the cluster, for private key material: any PEM private
 * key, base64-encoded or not, and any fragment of the keys the cluster keeps or kept during the file.
 * Returns one line per finding (never the key), or the empty string.
 */
async function keyMaterialReport(
  kubectl: Kubectl,
  watch: SecretKeyWatch,
  texts: readonly ScannedText[],
): Promise<string> {
  const keys = [...watch.seen(), ...(await clusterPrivateKeys(kubectl))];
  return describeFindings(findKeyMaterial([...texts, ...(await eventTexts(kubectl))], keys));
}

/** A bay whose deletion did not finish (a failed test) is released by hand: its nodes were swept. */
async function releaseAndDelete(kubectl: Kubectl, namespace: string, aggregate: string): Promise<void> {
  const left = (await kubectl(['get', 'bays', '-n', namespace, '-o', 'name'])).stdout.split('\n').filter(Boolean);
  const noFinalizers = '{"metadata":{"finalizers":null}}';
  for (const bay of left) await kubectl(['patch', bay, '-n', namespace, '--type=merge', '-p', noFinalizers]);
  // No namespace controller runs in the test environment: a namespace stays Terminating, and waiting
  // for it to go would only run into the timeout (a minute per file).
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await kubectl(['delete', 'hostaggregate', aggregate, '--wait=false']);
}
