import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildNodeImage } from '../cli/image.js';
import { mustRun } from './commands.js';
import { ensureControlPlane } from './control-plane.js';
import { ensureOperator, ensureOperatorKubeconfig, installCrds, installOperatorRbac, kubectlFor } from './cluster.js';
import { ensureLocalHost, hostNotes, localAggregateYaml, lxcfsMounted, lxdAnswers } from './host.js';
import { PLAYGROUND_AGGREGATE, repoRoot, type PlaygroundPaths } from './paths.js';

/** What `marina up` found or started on this machine; `marina down` undoes exactly that. */
export interface PlaygroundState {
  /** The directory of kube-apiserver, etcd and kubectl. */
  readonly binDir: string;
  /** The LXD daemon was not running before the first `marina up`. */
  readonly startedLxd: boolean;
  readonly startedLxcfs: boolean;
}

export async function readState(paths: PlaygroundPaths): Promise<PlaygroundState | undefined> {
  const text = await readFile(paths.stateFile, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as PlaygroundState);
}

type Step = <T>(what: string, work: () => Promise<T>, done?: (value: T) => string) => Promise<T>;

/** Prints each step as it starts and how long it took, on stderr (stdout stays for the summary). */
export function stepPrinter(out: NodeJS.WritableStream = process.stderr): Step {
  return async (what, work, done) => {
    const started = Date.now();
    out.write(`==> ${what}\n`);
    const value = await work();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    out.write(`    ${done ? done(value) : 'done'} (${seconds} s)\n`);
    return value;
  };
}

/**
 * The playground on this machine: Kubernetes test binaries, LXD with its own bridge, the node image, an
 * embedded kube-apiserver and etcd, the CRDs, the operator under its ServiceAccount, and a
 * HostAggregate for this host. Every step checks what exists first: a second run changes nothing, and
 * after the processes died (a reboot) it starts them again on the same data.
 */
export async function playgroundUp(paths: PlaygroundPaths, step: Step = stepPrinter()): Promise<string> {
  const started = Date.now();
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const before = await readState(paths);
  const binDir = await step(
    'Kubernetes binaries (kube-apiserver, etcd, kubectl; built once with Go into the cache)',
    async () =>
      (await mustRun('bash', [join(repoRoot, 'tools', 'k8s-binaries.sh')], { timeoutMs: 60 * 60_000 }))
        .trim()
        .split('\n')
        .pop()!,
    (dir) => dir,
  );
  const lxdBefore = await lxdAnswers();
  const lxcfsBefore = await lxcfsMounted();
  const host = await step(
    'LXD host (daemon, bridge, storage pool)',
    ensureLocalHost,
    (h) => `${h.socket}, bridge ${h.bridge}`,
  );
  const state: PlaygroundState = {
    binDir,
    startedLxd: before?.startedLxd ?? !lxdBefore,
    startedLxcfs: before?.startedLxcfs ?? (host.lxcfs && !lxcfsBefore),
  };
  await writeFile(paths.stateFile, JSON.stringify(state, null, 2) + '\n');
  await step(
    'node image (Debian + Docker; built once with debootstrap into the cache)',
    () => buildNodeImage({ endpoint: host.socket, log: (line) => process.stderr.write(`    ${line}\n`) }),
    (image) =>
      `${image.alias} ${image.fingerprint.slice(0, 12)}${image.built ? ', built' : ''}${image.imported ? ', imported' : ''}`,
  );
  await step(
    'control plane (kube-apiserver and etcd on loopback)',
    () => ensureControlPlane(paths, binDir),
    (s) => (s.length > 0 ? `started ${s.join(', ')}` : 'already running'),
  );
  const kubectl = kubectlFor(binDir, paths.adminKubeconfig);
  await step("CRDs and the operator's RBAC (deploy/operator.yaml)", async () => {
    await installCrds(kubectl);
    await installOperatorRbac(kubectl);
  });
  await step(
    'operator (marina run under its ServiceAccount)',
    async () => {
      await ensureOperatorKubeconfig(kubectl, paths);
      return ensureOperator(paths);
    },
    (startedNow) => (startedNow ? 'started' : 'already running'),
  );
  await step(
    `HostAggregate ${PLAYGROUND_AGGREGATE} for this machine`,
    async () => {
      await kubectl(['apply', '-f', '-'], localAggregateYaml(host));
      await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', `hostaggregate/${PLAYGROUND_AGGREGATE}`]);
    },
    () => 'Ready',
  );
  await writeShellEnvironment(paths, binDir);
  const notes = hostNotes(host)
    .map((n) => `  note: ${n}\n`)
    .join('');
  const seconds = Math.round((Date.now() - started) / 1000);
  return `marina playground is up (${seconds} s).
${notes}
  . ${paths.envFile}        # kubectl, marina and KUBECONFIG in this shell
  kubectl apply -f examples/bay.yaml
  marina wait web -n team-a
  marina credentials web -n team-a -o ./web && . ./web/docker.env && docker node ls

Operator log: ${join(paths.logs, 'marina-operator.log')}. Remove everything with: sudo ./marina down
`;
}

/** kubectl and this checkout's marina in the playground's bin/, and a snippet that puts them on PATH. */
async function writeShellEnvironment(paths: PlaygroundPaths, binDir: string): Promise<void> {
  await mkdir(paths.bin, { recursive: true });
  for (const [name, target] of [
    ['kubectl', join(binDir, 'kubectl')],
    ['marina', join(repoRoot, 'marina')],
  ] as const) {
    await rm(join(paths.bin, name), { force: true });
    await symlink(target, join(paths.bin, name));
  }
  const env = `# marina playground: source me (. ${paths.envFile})
export PATH="${paths.bin}:$PATH"
export KUBECONFIG="${paths.adminKubeconfig}"
`;
  await writeFile(paths.envFile, env);
}
