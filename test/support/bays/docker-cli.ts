import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { run, type RunResult } from '../processes.js';

/** The real `docker` CLI, configured only by the environment a credentials bundle gives. */
export type DockerCli = (args: readonly string[], opts?: { input?: string; host?: string }) => Promise<RunResult>;

/** Runs `marina credentials` (the real CLI) into a fresh directory and returns that directory. */
export async function fetchCredentials(kubeconfig: string, bay: string, namespace: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'marina-bundle-')), bay);
  const result = await run(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'credentials', bay, '-n', namespace, '--kubeconfig', kubeconfig, '-o', dir]);
  if (result.code !== 0) throw new Error(`marina credentials failed: ${result.stderr}`);
  return dir;
}

/**
 * The docker CLI with DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH from the bundle's docker.env,
 * sourced by a real shell. `host` points it at another node of the bay (same certificates).
 */
export function dockerWithBundle(certDir: string): DockerCli {
  return (args, opts = {}) => {
    const quoted = shellQuote(args);
    const override = opts.host ? `export DOCKER_HOST='tcp://${opts.host}:2376'; ` : '';
    return run('sh', ['-c', `. '${join(certDir, 'docker.env')}' && ${override}exec docker ${quoted}`], {
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      env: withoutDockerVariables(process.env),
      timeoutMs: 180_000,
    });
  };
}

/** Runs `marina env` (the real CLI) for bash and returns the lines it prints for eval. */
export async function marinaEnv(kubeconfig: string, bay: string, namespace: string): Promise<string> {
  const certDir = join(await mkdtemp(join(tmpdir(), 'marina-env-')), bay);
  const result = await run(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'env', bay, '-n', namespace, '--kubeconfig', kubeconfig, '--shell', 'bash', '--cert-dir', certDir]);
  if (result.code !== 0) throw new Error(`marina env failed: ${result.stderr}`);
  return result.stdout;
}

/** `eval "$(marina env ...)"` in a real bash, then the docker CLI. */
export function dockerAfterEval(envLines: string): DockerCli {
  return (args) => {
    const quoted = shellQuote(args);
    return run('bash', ['-c', `eval "$MARINA_ENV" && exec docker ${quoted}`], { env: { ...withoutDockerVariables(process.env), MARINA_ENV: envLines }, timeoutMs: 180_000 });
  };
}

function shellQuote(args: readonly string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

function withoutDockerVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('DOCKER_')));
}

/**
 * A bundle directory for the docker CLI made of a bundle's docker.env (endpoint, DOCKER_TLS_VERIFY), pointed
 * at this directory, and the PEM files given, each copied from the bundle directory named.
 */
export async function mixedBundle(webDir: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'marina-mixed-'));
  const script = await readFile(join(webDir, 'docker.env'), 'utf8');
  await writeFile(join(dir, 'docker.env'), script.replaceAll(webDir, dir));
  for (const [file, source] of Object.entries(files)) await copyFile(join(source, file), join(dir, file));
  return dir;
}

/** One member as `docker node ls` shows it to the tenant. */
export interface SwarmMemberLine {
  readonly hostname: string;
  readonly status: string;
  readonly availability: string;
  readonly engine: string;
  /** Leader, Reachable, Unreachable; empty for a worker. */
  readonly manager: string;
}

/** The swarm's members through the docker CLI, by hostname. */
export async function swarmNodes(docker: DockerCli): Promise<SwarmMemberLine[]> {
  const format = '{{.Hostname}} {{.Status}} {{.Availability}} {{.EngineVersion}} {{.ManagerStatus}}';
  const listed = await docker(['node', 'ls', '--format', format]);
  if (listed.code !== 0) throw new Error(`docker node ls failed: ${listed.stderr}`);
  return listed.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [hostname = '', status = '', availability = '', engine = '', manager = ''] = line.split(' ');
      return { hostname, status, availability, engine, manager };
    })
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}
