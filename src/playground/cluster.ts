import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { mustRun, runCommand } from './commands.js';
import { runningPid, startDaemon, stopDaemon, type Daemon } from './daemons.js';
import { exists, waitUntil } from './checks.js';
import { PLAYGROUND_PORTS, repoRoot, type PlaygroundPaths } from './paths.js';

/** The operator's identity as deploy/operator.yaml defines it. */
export const OPERATOR = { namespace: 'marina-system', serviceAccount: 'marina-operator' } as const;

export type Kubectl = (args: readonly string[], input?: string) => Promise<string>;

export function kubectlFor(binDir: string, kubeconfig: string): Kubectl {
  return (args, input) =>
    mustRun(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
}

/** The CRDs, established and published (kubectl explain answers). */
export async function installCrds(kubectl: Kubectl): Promise<void> {
  const crds = join(repoRoot, 'crds');
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', crds]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crds]);
  await waitUntil(
    'the marina kinds in OpenAPI',
    async () =>
      await kubectl(['explain', 'bay.spec']).then(
        () => true,
        () => false,
      ),
    60_000,
  );
}

/**
 * deploy/operator.yaml's namespace, ServiceAccount and RBAC — not its Deployment: the playground has
 * no kubelet, so the operator runs as a process under that ServiceAccount's token instead.
 */
export async function installOperatorRbac(kubectl: Kubectl): Promise<void> {
  const text = await readFile(join(repoRoot, 'deploy', 'operator.yaml'), 'utf8');
  const docs = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string } | null)
    .filter((d): d is { kind: string } => d !== null && d.kind !== undefined && d.kind !== 'Deployment');
  await kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
}

/**
 * A kubeconfig holding a bound token of the operator's ServiceAccount (a year long): the rights the
 * operator ships with, nothing more. Kept across runs; made again when missing.
 */
export async function ensureOperatorKubeconfig(kubectl: Kubectl, paths: PlaygroundPaths): Promise<boolean> {
  if (await exists(paths.operatorKubeconfig)) return false;
  const { namespace, serviceAccount } = OPERATOR;
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration', '8760h'])).trim();
  const admin = parse(await readFile(paths.adminKubeconfig, 'utf8')) as { clusters: { name: string }[] };
  const cluster = admin.clusters[0]!.name;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: admin.clusters,
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: serviceAccount, context: { cluster, user: serviceAccount, namespace } }],
    'current-context': serviceAccount,
  };
  await writeFile(paths.operatorKubeconfig, stringify(config), { mode: 0o600 });
  return true;
}

export function operatorDaemon(paths: PlaygroundPaths): Daemon {
  return {
    name: 'marina-operator',
    command: process.execPath,
    args: [
      join(repoRoot, 'dist', 'cli', 'main.js'),
      'run',
      '--kubeconfig',
      paths.operatorKubeconfig,
      '--namespace',
      OPERATOR.namespace,
      '--health-address',
      '127.0.0.1',
      '--health-port',
      String(PLAYGROUND_PORTS.operatorHealth),
      '--probe-interval',
      '10',
    ],
    runDir: paths.run,
    logDir: paths.logs,
  };
}

/** The operator process running and healthy; true when this call started it. */
export async function ensureOperator(paths: PlaygroundPaths): Promise<boolean> {
  const daemon = operatorDaemon(paths);
  const running = (await runningPid(daemon)) !== undefined;
  if (!running) await startDaemon(daemon);
  const healthz = `http://127.0.0.1:${PLAYGROUND_PORTS.operatorHealth}/healthz`;
  await waitUntil(
    'the operator /healthz',
    async () => (await fetch(healthz).catch(() => undefined))?.ok === true,
    60_000,
  );
  return !running;
}

export const stopOperator = (paths: PlaygroundPaths): Promise<boolean> => stopDaemon(operatorDaemon(paths), 30_000);

/**
 * Deletes every bay and waits until they are gone, so that the operator deletes their nodes and
 * Secrets; a bay that does not go within the timeout is reported, not forced.
 */
export async function deleteAllBays(binDir: string, kubeconfig: string): Promise<string | undefined> {
  const kubectl = join(binDir, 'kubectl');
  const result = await runCommand(kubectl, [
    '--kubeconfig',
    kubeconfig,
    'delete',
    'bays',
    '--all',
    '-A',
    '--timeout=300s',
  ]);
  if (result.code === 0) return undefined;
  // No CRD yet (an up that stopped early) means no bay either.
  if (/the server doesn't have a resource type/.test(result.stderr)) return undefined;
  return result.stderr.trim();
}
