import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNodeImage } from '../../../src/cli/image.js';
import { getBay, type BayView } from '../../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials, swarmNodes, type DockerCli } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { FLEET_HOSTS } from '../../support/bays/fleet.js';
import { deployProbedService, ServiceProber, type ProbeReport } from '../../support/bays/prober.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../../support/bays/workload-image.js';
import { mustKubectl } from '../../support/kubectl.js';
import { ofBay } from '../../support/lxd/index.js';
import { repoRoot } from '../../support/paths.js';
import { run, waitFor } from '../../support/processes.js';

// Two real hosts on this machine, as a platform admin adds them: LXD and Incus, each over HTTPS with a
// client certificate it trusts through a trust token, nodes bridged onto the network both are on.
const env = useBayTestEnvironment('e2e-fleet', { hosts: 'fleet' });
const { kubectl, kubeconfig, namespace } = env;

/** Node name → the aggregate host whose daemon lists the instance (asked with each daemon's own CLI). */
async function whereNodesRun(bay: BayView): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const [host, cli] of env.fleet!.byName) {
    for (const instance of (await cli.list()).filter(ofBay(bay.metadata.uid))) found.set(instance.name, host);
  }
  return found;
}

/** incusd itself (started by tools/setup-incus-host.sh), not the monitors of its instances. */
async function incusDaemonPid(): Promise<number> {
  const listed = await run('pgrep', ['-x', 'incusd']);
  for (const pid of listed.stdout.split('\n').filter(Boolean).map(Number)) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (argv.includes('--logfile')) return pid;
  }
  throw new Error('no incusd daemon process found');
}

const OVERLAY_CONVERGENCE_MS = 60_000;

/** A page from every task of the service, fetched over the overlay from a container on the manager. */
async function pagesOverOverlay(docker: DockerCli, network: string, service: string): Promise<string[]> {
  const ps = await docker(['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.ID}}']);
  const addresses = await Promise.all(
    ps.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(async (task) => {
        const format = `{{range .NetworksAttachments}}{{if eq .Network.Spec.Name "${network}"}}{{index .Addresses 0}}{{end}}{{end}}`;
        return (await docker(['inspect', '--format', format, task])).stdout.trim().split('/')[0]!;
      }),
  );
  // (No wget -T: busybox 1.35's wget crashes with it; `timeout` bounds each fetch instead.)
  const script = addresses.map((a) => `timeout 5 wget -qO- http://${a}:8080/`).join(' && ');
  // A task runs before every node has learnt by gossip where the others' tasks are: a fetch right
  // after may find no route yet, so it is tried again for a while, and how long it took is shown.
  const started = Date.now();
  const pages = await waitFor(
    `a page from each task of ${service} over ${network}`,
    async () => {
      const fetched = await docker(['run', '--rm', '--network', network, WORKLOAD_IMAGE, 'sh', '-c', script]);
      if (fetched.code !== 0) throw new Error(`fetching over ${network} failed: ${fetched.stderr}`);
      return fetched.stdout.trim().split('\n');
    },
    OVERLAY_CONVERGENCE_MS,
    1_000,
  );
  console.info(`pages over ${network} from ${addresses.length} tasks after ${Date.now() - started} ms`);
  return pages;
}

/**
 * Follows the bay while a replacement runs, as a load balancer follows service discovery: the prober's
 * backends are the bay's node addresses, the workload image is loaded into each new node as soon as its
 * dockerd answers (there is no registry to pull it from), and the fewest ready nodes the bay ever
 * reported is kept.
 */
function followBay(docker: () => DockerCli, prober: ServiceProber): { stop: () => Promise<number> } {
  let minReady = Number.POSITIVE_INFINITY;
  let following = true;
  const loaded = new Set<string>();
  const loop = (async () => {
    while (following) {
      const now = await getBay(kubectl, namespace, 'wide');
      minReady = Math.min(minReady, now.status?.readyNodes ?? 0);
      const addresses = (now.status?.nodes ?? []).flatMap((n) => (n.address && n.state !== 'Retiring' ? [n.address] : []));
      prober.setBackends(addresses);
      // New nodes are looked for on the hosts themselves, so the image is there before they join the swarm.
      for (const cli of env.fleet!.byName.values()) {
        for (const instance of (await cli.list()).filter(ofBay(now.metadata.uid))) {
          const address = instance.ipv4[0];
          if (!address || loaded.has(address)) continue;
          if (await loadWorkloadImage(docker(), address).then(() => true, () => false)) loaded.add(address);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      following = false;
      await loop;
      return minReady;
    },
  };
}

describe('a bay across two real hosts: LXD and Incus over HTTPS', () => {
  let bay: BayView;
  let docker: DockerCli;
  let placement: Map<string, string>;

  beforeAll(async () => {
    await env.applyBay('wide', { nodes: 5, managers: 3 });
    bay = await env.waitReady('wide');
    docker = dockerWithBundle(await fetchCredentials(kubeconfig, 'wide', namespace));
    placement = await whereNodesRun(bay);
  });

  it('both hosts are ready, each trusting marina through the token it issued', async () => {
    const aggregate = JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', env.aggregate, '-o', 'json'])) as {
      status: { hosts: { name: string; ready: boolean; server?: string }[] };
    };
    const hosts = Object.fromEntries(aggregate.status.hosts.map((h) => [h.name, h]));
    expect(hosts[FLEET_HOSTS.lxd]).toMatchObject({ ready: true, server: expect.stringMatching(/^lxd 5\./) });
    expect(hosts[FLEET_HOSTS.incus]).toMatchObject({ ready: true, server: expect.stringMatching(/^incus 6\./) });
    // The tokens were redeemed: each daemon trusts marina's certificate, and holds no token for it any more.
    for (const cli of env.fleet!.byName.values()) {
      expect(await cli.trustedFingerprints()).toContain(env.fleet!.clientFingerprint);
      const tokens = JSON.parse(await cli.must(['config', 'trust', 'list-tokens', '--format', 'json'])) as Record<
        string,
        string
      >[];
      // LXD 5.0 says ClientName, Incus client_name
      expect(tokens.map((t) => t.ClientName ?? t.client_name)).not.toContain(`marina-${namespace}`);
    }
  });

  it('a 3-manager, 5-node bay is Ready with nodes and managers on both hosts, all swarm members', async () => {
    expect(bay.status?.readyNodes).toBe(5);
    expect(placement.size).toBe(5);
    expect(new Set(placement.values())).toEqual(new Set([FLEET_HOSTS.lxd, FLEET_HOSTS.incus]));
    const managerHosts = new Set(bay.status!.nodes!.filter((n) => n.role === 'manager').map((n) => placement.get(n.name)));
    expect(managerHosts).toEqual(new Set([FLEET_HOSTS.lxd, FLEET_HOSTS.incus]));
    // status names each node's host as the daemons' own CLIs find it
    for (const node of bay.status!.nodes!) expect(node.host).toBe(placement.get(node.name));
    const members = await swarmNodes(docker);
    expect(members.map((m) => m.hostname)).toEqual([...placement.keys()].sort());
    expect(members.every((m) => m.status === 'Ready')).toBe(true);
    expect(members.filter((m) => m.manager !== '')).toHaveLength(3);
  });

  it('nodes get fixed addresses on the hosts’ network, the same in status, on the NIC and in the node', async () => {
    for (const node of bay.status!.nodes!) {
      const cli = env.fleet!.byName.get(placement.get(node.name)!)!;
      expect(node.address).toMatch(/^10\.213\.80\.(129|1[3-9]\d|2[0-4]\d|25[0-4])$/);
      const nic = async (key: string) => (await cli.must(['config', 'device', 'get', node.name, 'eth0', key])).trim();
      expect(await nic('ipv4.address')).toBe(node.address);
      // The host drops what the node sends from any other address: it cannot pose as another node.
      expect(await nic('security.ipv4_filtering')).toBe('true');
      const inside = await cli.exec(node.name, ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
      expect(inside.stdout).toContain(`inet ${node.address}/24`);
    }
  });

  it('an overlay service reaches its tasks on both hosts', async () => {
    for (const node of bay.status!.nodes!) await loadWorkloadImage(docker, node.address!);
    expect((await docker(['network', 'create', '--driver', 'overlay', '--attachable', 'widenet'])).code).toBe(0);
    const created = await docker([
      'service', 'create', '--detach', '--no-resolve-image', '--name', 'who', '--network', 'widenet',
      '--replicas', '5', '--replicas-max-per-node', '1',
      WORKLOAD_IMAGE, 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www',
    ]);
    expect(created.code).toBe(0);
    const taskNodes = await waitFor(
      '5 running tasks of who',
      async () => {
        const ps = await docker(['service', 'ps', 'who', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}']);
        const running = ps.stdout.trim().split('\n').filter((l) => l.includes(' Running '));
        return running.length === 5 ? running.map((l) => l.split(' ')[0]!) : undefined;
      },
      180_000,
      1_000,
    );
    expect(new Set(taskNodes.map((n) => placement.get(n)))).toEqual(new Set([FLEET_HOSTS.lxd, FLEET_HOSTS.incus]));
    const pages = await pagesOverOverlay(docker, 'widenet', 'who');
    expect(new Set(pages).size).toBe(5);
  });

  it('the Incus daemon killed: Degraded naming the host, still serving, nothing deleted; back: Ready, same nodes', async () => {
    const before = await whereNodesRun(bay);
    const onIncus = [...before].filter(([, host]) => host === FLEET_HOSTS.incus).map(([name]) => name);
    process.kill(await incusDaemonPid(), 'SIGKILL');
    try {
      const degraded = await waitFor(
        'the bay to say the Incus host is unreachable',
        async () => {
          const now = await getBay(kubectl, namespace, 'wide');
          const nodesReady = now.status?.conditions?.find((c) => c.type === 'NodesReady');
          return now.status?.phase === 'Degraded' && nodesReady?.reason === 'HostUnreachable' ? now : undefined;
        },
        120_000,
        1_000,
      );
      const message = degraded.status!.conditions!.find((c) => c.type === 'NodesReady')!.message;
      for (const name of onIncus) expect(message).toContain(`${name} on ${FLEET_HOSTS.incus}`);
      // The swarm still has all its members (their containers run on without the daemon) and serves.
      expect((await swarmNodes(docker)).filter((m) => m.status === 'Ready')).toHaveLength(5);
      expect(new Set(await pagesOverOverlay(docker, 'widenet', 'who')).size).toBe(5);
      // Nothing was replaced meanwhile: LXD holds exactly the nodes it held.
      const lxdNow = (await env.lxc.list()).filter(ofBay(bay.metadata.uid)).map((i) => i.name);
      expect(lxdNow.sort()).toEqual([...before].filter(([, h]) => h === FLEET_HOSTS.lxd).map(([n]) => n).sort());
    } finally {
      // The set-up script starts the daemon again when it does not answer.
      await incusTestHostRestart();
    }
    const ready = await env.waitReady('wide');
    expect(ready.status?.readyNodes).toBe(5);
    expect(await whereNodesRun(ready)).toEqual(before);
    expect(ready.status!.nodes!.map((n) => n.name).sort()).toEqual(bay.status!.nodes!.map((n) => n.name).sort());
  });

  /**
   * Runs `work` under a 20/s probe of the published service that follows the bay's nodes; afterwards the
   * tenant fetches the bundle again (the endpoint may have been a replaced node). Returns what the probe
   * saw and the fewest ready nodes the bay reported.
   */
  async function whileProbed<T>(label: string, work: () => Promise<T>): Promise<{ result: T; report: ProbeReport; minReady: number }> {
    const backends = (await getBay(kubectl, namespace, 'wide')).status!.nodes!.map((n) => n.address!);
    const prober = new ServiceProber({ backends, port: 8081, ratePerSecond: 20 });
    const follower = followBay(() => docker, prober);
    prober.start();
    let result: T;
    let minReady: number;
    let report: ProbeReport;
    try {
      result = await work();
    } finally {
      minReady = await follower.stop();
      report = await prober.stop();
    }
    docker = dockerWithBundle(await fetchCredentials(kubeconfig, 'wide', namespace));
    console.info(`probes during the ${label}: ${JSON.stringify({ ...report, failures: report.failures.slice(0, 3) })}`);
    return { result, report, minReady };
  }

  /** JSON-patches the aggregate; `{incus}` in a path stands for the Incus host's index in spec.hosts. */
  async function patchAggregate(ops: { op: string; path: string; value: unknown }[]): Promise<void> {
    const aggregate = JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', env.aggregate, '-o', 'json'])) as {
      spec: { hosts: { name: string }[] };
    };
    const at = String(aggregate.spec.hosts.findIndex((h) => h.name === FLEET_HOSTS.incus));
    const patch = JSON.stringify(ops.map((o) => ({ ...o, path: o.path.replace('{incus}', at) })));
    await mustKubectl(kubectl, ['patch', 'hostaggregate', env.aggregate, '--type=json', '-p', patch]);
  }

  it('evacuating the Incus host moves every node to LXD, a replacement first: no failed request, never fewer Ready nodes', async () => {
    const nodes = (await getBay(kubectl, namespace, 'wide')).status!.nodes!;
    await deployProbedService(docker, { name: 'probed', port: 8081, replicas: 2, nodeAddresses: nodes.map((n) => n.address!) });
    // The overlay test's service has served its purpose; the probed one is what a client sees.
    expect((await docker(['service', 'rm', 'who'])).code).toBe(0);
    const { report, minReady } = await whileProbed('evacuation', async () => {
      await patchAggregate([{ op: 'add', path: '/spec/hosts/{incus}/evacuate', value: true }]);
      await waitFor(
        'every node of the bay off the Incus host, nothing left to replace',
        async () => {
          const now = await getBay(kubectl, namespace, 'wide');
          const replaced = now.status?.conditions?.find((c) => c.type === 'NodesReplaced');
          const where = await whereNodesRun(now);
          const offIncus = [...where.values()].every((h) => h === FLEET_HOSTS.lxd) && where.size === 5;
          return offIncus && replaced?.reason === 'AllReplaced' && now.status?.phase === 'Ready' ? now : undefined;
        },
        600_000,
        2_000,
      );
    });
    expect(report.sent).toBeGreaterThan(100);
    expect(report.failed).toBe(0);
    expect(minReady).toBeGreaterThanOrEqual(5);
    // The swarm lists the bay's five nodes only: the evacuated members were removed.
    await waitFor('five swarm members', async () => ((await swarmNodes(docker)).length === 5 ? true : undefined), 120_000, 2_000);
    const members = await swarmNodes(docker);
    expect(members.every((m) => m.status === 'Ready')).toBe(true);
    expect(members.filter((m) => m.manager !== '')).toHaveLength(3);
  });

  it('a rolling upgrade to the trixie image: every node on the new image and Docker, no failed request', async () => {
    // The admin builds the new image on both hosts, ends the evacuation, and moves the aggregate's alias.
    for (const host of [env.host, env.fleet!.incusHost]) {
      await buildNodeImage({ endpoint: host.socketEndpoint, suite: 'trixie', log: (l) => console.info(`trixie (${host.cli}): ${l}`) });
    }
    const before = await getBay(kubectl, namespace, 'wide');
    const oldEngines = new Set((await swarmNodes(docker)).map((m) => m.engine));
    await mustKubectl(kubectl, ['patch', 'bay', 'wide', '-n', namespace, '--type=merge', '-p', '{"spec":{"upgradePolicy":"Rolling"}}']);
    const { result: after, report, minReady } = await whileProbed('upgrade', async () => {
      await patchAggregate([
        { op: 'replace', path: '/spec/hosts/{incus}/evacuate', value: false },
        { op: 'replace', path: '/spec/image', value: 'marina-node/trixie' },
      ]);
      return waitFor(
        'every node of the bay on the trixie image',
        async () => {
          const now = await getBay(kubectl, namespace, 'wide');
          const upToDate = now.status?.conditions?.find((c) => c.type === 'NodesUpToDate');
          return upToDate?.reason === 'UpToDate' && now.status?.phase === 'Ready' ? now : undefined;
        },
        900_000,
        2_000,
      );
    });
    expect(report.failed).toBe(0);
    expect(minReady).toBeGreaterThanOrEqual(5);
    // Every node is new, runs the image the alias names on its host, and a newer Docker than before.
    const oldNames = new Set(before.status!.nodes!.map((n) => n.name));
    expect(after.status!.nodes!.filter((n) => oldNames.has(n.name))).toEqual([]);
    for (const node of after.status!.nodes!) {
      const cli = env.fleet!.byName.get(node.host!)!;
      const image = (await cli.must(['image', 'list', 'marina-node/trixie', '--format', 'csv', '-c', 'F'])).trim();
      const base = await cli.configGet(node.name, 'volatile.base_image');
      expect(base.startsWith(image)).toBe(true);
    }
    await waitFor('five swarm members', async () => ((await swarmNodes(docker)).length === 5 ? true : undefined), 120_000, 2_000);
    const engines = new Set((await swarmNodes(docker)).map((m) => m.engine));
    expect(engines.size).toBe(1);
    expect(oldEngines.has([...engines][0]!)).toBe(false);
    console.info(`Docker ${[...oldEngines].join(', ')} → ${[...engines].join(', ')}`);
  });
});

async function incusTestHostRestart(): Promise<void> {
  const result = await run('bash', [join(repoRoot, 'tools', 'setup-incus-host.sh')], { timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`starting incusd again failed: ${result.stderr}`);
}
