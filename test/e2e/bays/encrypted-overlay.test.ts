import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBay } from '../../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { waitForServiceRunning } from '../../support/bays/prober.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../../support/bays/workload-image.js';
import { hostKernelFeatures } from '../../support/kernel.js';
import { mustKubectl } from '../../support/kubectl.js';
import { nodeIndex, ofBay } from '../../support/lxd/index.js';
import { run, waitFor } from '../../support/processes.js';

// spec.network.encryptOverlay on the real host. Which of the two tests runs depends on the host's kernel:
// only one with IPsec ESP (AES-GCM) can carry an encrypted overlay, and marina must say so when it cannot.
const env = useBayTestEnvironment('e2e-esp', { network: 'isolated' });
const { kubectl } = env;
const NS = env.namespace;
const esp = hostKernelFeatures().esp4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Node {
  readonly name: string;
  readonly address: string;
}
let nodes: Node[] = [];

type Condition = { type: string; status: string; reason: string; message: string };
const conditionOf = async (type: string): Promise<Condition | undefined> =>
  (await getBay(kubectl, NS, 'secret')).status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  await env.applyBay('secret', { nodes: 2, encryptOverlay: true });
  if (esp) await env.waitReady('secret');
  else {
    await waitFor(
      'the refusal of the encrypted overlay',
      async () => ((await conditionOf('SwarmReady'))?.reason === 'EncryptedOverlayUnsupported' ? true : undefined),
      240_000,
      1_000,
    );
  }
  const uid = (await getBay(kubectl, NS, 'secret')).metadata.uid;
  const instances = (await env.lxc.list()).filter(ofBay(uid)).sort((a, b) => nodeIndex(a) - nodeIndex(b));
  nodes = instances.map((i) => ({ name: i.name, address: i.ipv4[0]! }));
});

afterAll(async () => {
  await kubectl(['delete', 'bay', 'secret', '-n', NS, '--timeout=180s']);
});

describe('an encrypted overlay network on request (spec.network.encryptOverlay)', () => {
  it.runIf(!esp)("where a host's kernel has no ESP, none is made, and the bay says which host lacks what", async () => {
    const swarm = (await conditionOf('SwarmReady'))!;
    expect(swarm.status).toBe('False');
    expect(swarm.message).toContain("host localhost's kernel has no IPsec ESP with AES-GCM (esp4)");
    expect((await conditionOf('Stalled'))?.status).toBe('True');
    const bay = await getBay(kubectl, NS, 'secret');
    expect(bay.status?.readyNodes).toBe(2);
    expect((bay.status as { network?: unknown }).network).toBeUndefined();
    const docker = dockerWithBundle(await fetchCredentials(env.kubeconfig, 'secret', NS));
    const networks = await docker(['network', 'ls', '--format', '{{.Name}}']);
    expect(networks.code, networks.stderr).toBe(0);
    expect(networks.stdout.split('\n')).not.toContain('marina-encrypted');
    // The aggregate, which admins read, says the same of the host.
    const aggregate = JSON.parse(await mustKubectl(kubectl, ['get', 'hostaggregate', env.aggregate, '-o', 'json'])) as {
      status: { hosts: { capabilities?: { kernelModules?: { missing?: string[] }; warnings?: string[] } }[] };
    };
    const capabilities = aggregate.status.hosts[0]?.capabilities;
    expect(capabilities?.kernelModules?.missing).toContain('esp4');
    expect(capabilities?.warnings?.some((w) => w.startsWith('no esp4'))).toBe(true);
  });

  it.runIf(esp)("where the kernel has ESP, its tasks talk across the bay's bridge in ESP only", async () => {
    const bay = await getBay(kubectl, NS, 'secret');
    expect((bay.status as { network?: { encryptedOverlay?: string } }).network?.encryptedOverlay).toBe(
      'marina-encrypted',
    );
    const docker = dockerWithBundle(await fetchCredentials(env.kubeconfig, 'secret', NS));
    const inspected = await docker(['network', 'inspect', 'marina-encrypted', '--format', '{{json .Options}}']);
    expect(JSON.parse(inspected.stdout)).toHaveProperty('encrypted');
    for (const node of nodes) await loadWorkloadImage(docker, node.address);
    const created = await docker([
      'service',
      'create',
      '--detach',
      '--name',
      'echo',
      '--replicas',
      '2',
      '--replicas-max-per-node',
      '1',
      '--network',
      'marina-encrypted',
      WORKLOAD_IMAGE,
      'sh',
      '-c',
      'busybox mkdir -p /www && echo "from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www',
    ]);
    expect(created.code, created.stderr).toBe(0);
    await waitForServiceRunning(docker, 'echo', 2, 120_000);

    const bridge = (await env.lxc.must(['config', 'device', 'get', nodes[0]!.name, 'eth0', 'network'])).trim();
    const capture = run('timeout', ['20', 'tcpdump', '-i', bridge, '-nn', '-l', 'ip proto 50 or udp port 4789'], {
      timeoutMs: 30_000,
    });
    await sleep(1_000);
    // The tasks' addresses on the network, as a manager lists them; one task runs on each node.
    const verbose = await docker([
      'network',
      'inspect',
      '--verbose',
      'marina-encrypted',
      '--format',
      '{{json .Services}}',
    ]);
    const services = JSON.parse(verbose.stdout) as Record<string, { Tasks?: { EndpointIP: string }[] }>;
    const taskIps = (services['echo']?.Tasks ?? []).map((t) => t.EndpointIP);
    expect(taskIps).toHaveLength(2);
    // From a container on the first node, each task by its overlay address, five times over (`timeout`, as
    // busybox 1.35's own `wget -T` crashes).
    const fetched = await docker(
      [
        'run',
        '--rm',
        '--network',
        'marina-encrypted',
        WORKLOAD_IMAGE,
        'sh',
        '-c',
        `for i in 1 2 3 4 5; do for ip in ${taskIps.join(' ')}; do ` +
          'timeout 5 wget -qO- http://$ip/ || exit 1; done; done',
      ],
      { host: nodes[0]!.address },
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    const served = new Set(fetched.stdout.split('\n').filter((l) => l.startsWith('from ')));
    expect(served.size).toBe(2);
    const seen = (await capture).stdout.split('\n').filter(Boolean);
    expect(seen.filter((l) => l.includes('ESP(')).length).toBeGreaterThan(0);
    expect(seen.filter((l) => l.includes('.4789:') || l.includes('VXLAN'))).toEqual([]);
    await docker(['service', 'rm', 'echo']);
  });
});
