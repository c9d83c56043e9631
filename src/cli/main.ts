#!/usr/bin/env node
import { Command, Option } from 'commander';
import { findLocalSocket } from '../hosts/index.js';
import { CredentialsError, defaultCertDir, detectShell, fetchBundle, scriptFor, writeBundle, type Shell } from './credentials.js';
import { buildNodeImage } from './image.js';
import { DEFAULT_SUITE, NODE_IMAGE_SUITES } from '../hosts/lxd/node-image/recipe.js';
import { runOperator } from './run.js';
import { runValidate } from './validate.js';
import { waitForBay, WAIT_EXIT, type OutputFormat } from './wait.js';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { parseDuration } from '../pki/index.js';
import { playgroundDown } from '../playground/down.js';
import { playgroundPaths } from '../playground/paths.js';
import { playgroundUp } from '../playground/up.js';

const program = new Command()
  .name('marina')
  .description('Container-as-a-service on bare metal: Docker Swarm bays on LXD/Incus hosts, run by a Kubernetes operator.')
  .showHelpAfterError();

program
  .command('validate')
  .description('Validate Bay and HostAggregate manifests offline against the CRD schemas and CEL rules (for GitOps pipelines)')
  .requiredOption('-f, --filename <path...>', 'manifest files or directories (searched for .yaml, .yml and .json)')
  .action(async (opts: { filename: string[] }) => {
    process.exitCode = await runValidate(opts.filename);
  });

program
  .command('run')
  .description('Run the operator: reconcile HostAggregates and Bays until SIGTERM')
  .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)')
  .option('--health-port <port>', 'port of /metrics, /healthz and /readyz', (v) => Number(v), 8080)
  .option('--health-address <address>', 'address /metrics, /healthz and /readyz listen on (127.0.0.1 keeps them on the machine)', '0.0.0.0')
  .option('--leader-elect', 'elect a leader among replicas through a Lease', false)
  .option('--namespace <ns>', 'the operator\'s namespace: its Lease, and where host credentials Secrets live', process.env['POD_NAMESPACE'] ?? 'marina-system')
  .option('--lease-namespace <ns>', 'namespace of the leader-election Lease (default: --namespace)')
  .option('--lease-duration <seconds>', 'how long a standby waits after the leader went silent', (v) => Number(v), 15)
  .option('--renew-deadline <seconds>', 'how long the leader tries to renew before it gives up', (v) => Number(v), 10)
  .option('--retry-period <seconds>', 'time between lease renewals (one API request each)', (v) => Number(v), 2)
  .option('--credentials-namespace <ns>', 'another namespace host credentials Secrets may be read from (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--probe-interval <seconds>', 'how often hosts are probed and observed', (v) => Number(v), 30)
  .option('--resync <seconds>', 'how often a Ready bay\'s swarm is checked again (changes wake bays at once)', (v) => Number(v), 300)
  .option('--usage-interval <seconds>', 'how often an autoscaled bay\'s reserved CPU and memory are read from a manager', (v) => Number(v), 5)
  .option('--concurrency <n>', 'bays reconciled at once', (v) => Number(v), 4)
  .option('--log-level <level>', 'pino log level', 'info')
  .addOption(new Option('--simulate-hosts <file>', 'benchmarks only: simulate every host and node, kept in this file').hideHelp())
  .addOption(new Option('--simulate-config <file>', 'benchmarks only: JSON configuration of the simulated world').hideHelp())
  .action(runOperator);

const bayOptions = (cmd: Command): Command =>
  cmd.option('-n, --namespace <ns>', 'the bay\'s namespace (default: the kubeconfig context\'s)').option('--kubeconfig <path>', 'kubeconfig to use');

bayOptions(
  program
    .command('credentials <bay>')
    .description('Write the bay\'s credentials bundle (ca.pem, cert.pem, key.pem, docker.env, docker.fish, docker.ps1, docker.cmd) into a directory')
    .option('-o, --output <dir>', 'directory to write (default: ./<bay>); existing files are replaced'),
).action(async (bay: string, opts: { namespace?: string; kubeconfig?: string; output?: string }) => {
  const bundle = await fetchBundle({ bay, ...opts });
  const { paths } = await writeBundle(bundle, opts.output ?? bay);
  console.error(`wrote ${paths.length} files; load them with: . ${paths.find((f) => f.endsWith('docker.env'))}`);
  for (const path of paths) console.log(path);
});

bayOptions(
  program
    .command('env <bay>')
    .description('Print the shell commands that point the Docker CLI at the bay: eval "$(marina env <bay>)"')
    .option('--shell <shell>', 'bash, zsh, sh, fish, powershell or cmd (default: from $SHELL)')
    .option('--cert-dir <dir>', 'where to keep the certificates (default: ~/.marina/bays/<namespace>/<bay>)'),
).action(async (bay: string, opts: { namespace?: string; kubeconfig?: string; shell?: string; certDir?: string }) => {
  const shells: Shell[] = ['bash', 'zsh', 'sh', 'fish', 'powershell', 'cmd'];
  const shell = (opts.shell ?? detectShell()) as Shell;
  if (!shells.includes(shell)) return program.error(`--shell must be one of ${shells.join(', ')}`);
  const bundle = await fetchBundle({ bay, ...opts });
  const dir = opts.certDir ?? defaultCertDir(bundle.namespace, bay);
  const { scripts } = await writeBundle(bundle, dir);
  process.stdout.write(scriptFor(scripts, shell));
});

bayOptions(
  program
    .command('wait <bay>')
    .description('Wait until the bay is Ready, showing its progress (nodes, phase, elapsed); exit codes: 0 Ready, 1 it needs a person, 2 usage, 3 timed out')
    .option('--timeout <duration>', 'how long to wait, such as 10m or 90s', '10m')
    .option('-o, --output <format>', 'what to print once Ready: text, json or yaml', 'text'),
).action(async (bay: string, opts: { namespace?: string; kubeconfig?: string; timeout: string; output: string }) => {
  const formats: OutputFormat[] = ['text', 'json', 'yaml'];
  if (!formats.includes(opts.output as OutputFormat)) return usageError(`--output must be one of ${formats.join(', ')}`);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch {
    return usageError(`--timeout must be a duration such as 10m or 90s, not ${opts.timeout}`);
  }
  process.exitCode = await waitForBay({ bay, ...opts, timeoutMs, output: opts.output as OutputFormat });
});

program
  .command('version')
  .description('Print marina\'s version and the API it serves')
  .option('-o, --output <format>', 'text, json or yaml', 'text')
  .action((opts: { output: string }) => {
    const info = versionInfo();
    if (opts.output === 'json') console.log(JSON.stringify(info, null, 2));
    else if (opts.output === 'yaml') console.log(stringify(info).trimEnd());
    else if (opts.output === 'text') console.log(`marina ${info.version} (API ${info.api.join(', ')}; node ${info.node})`);
    else usageError('--output must be one of text, json, yaml');
  });

const image = program.command('image').description('Node images on LXD/Incus hosts');

image
  .command('build')
  .description('Build the node image (Debian with Docker) with debootstrap and import it on a host under a stable alias; cached, so a second run takes seconds')
  .option('--endpoint <url>', 'the host: unix:///path/to/unix.socket (default: the local LXD or Incus socket)')
  .option('--suite <suite>', `Debian suite: ${NODE_IMAGE_SUITES.join(' or ')} (Docker 20.10 or 26)`, DEFAULT_SUITE)
  .option('--alias <alias>', 'image alias on the host (default: marina-node/<suite>)')
  .option('--mirror <url>', 'Debian mirror (default: the one this machine\'s apt sources use)')
  .option('--format <format>', 'root filesystem as squashfs (smaller) or tar (faster to pack)', 'squashfs')
  .option('--rebuild', 'build the root filesystem again even when the cache has it')
  .option('--cache-dir <dir>', 'cache directory (default: $MARINA_CACHE or ~/.cache/marina)')
  .action(async (opts: { endpoint?: string; suite: string; alias?: string; mirror?: string; format: string; rebuild?: boolean; cacheDir?: string }) => {
    const format = opts.format;
    if (format !== 'squashfs' && format !== 'tar') return program.error(`--format must be squashfs or tar, not ${format}`);
    const suite = NODE_IMAGE_SUITES.find((s) => s === opts.suite);
    if (!suite) return program.error(`--suite must be ${NODE_IMAGE_SUITES.join(' or ')}, not ${opts.suite}`);
    const endpoint = opts.endpoint ?? (await findLocalSocket());
    if (!endpoint) return program.error('no local LXD or Incus socket found: pass --endpoint');
    const result = await buildNodeImage({
      endpoint,
      suite,
      ...(opts.alias ? { alias: opts.alias } : {}),
      format,
      rebuild: opts.rebuild ?? false,
      ...(opts.mirror ? { mirror: opts.mirror } : {}),
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      log: (line) => console.error(line),
    });
    console.log(`${result.alias} ${result.fingerprint} (${result.built ? `built in ${(result.buildMs / 1000).toFixed(1)} s` : 'from cache'}, ${result.imported ? 'imported' : 'already on the host'})`);
  });

const playgroundCommands = [
  ['up', 'Run a playground on this machine (as root): kube-apiserver, etcd, LXD, the node image, the operator and a HostAggregate', playgroundUp],
  ['down', 'Remove the playground: its bays and nodes, the operator, the control plane, its bridge and its files', playgroundDown],
] as const;
for (const [name, description, run] of playgroundCommands) {
  program
    .command(name)
    .description(description)
    .action(async () => {
      if (requireRoot(name)) process.stdout.write(await run(playgroundPaths()));
    });
}

function requireRoot(command: string): boolean {
  if (process.getuid?.() === 0) return true;
  console.error(`marina: ${command} sets up LXD and system daemons and must run as root: sudo ./marina ${command}`);
  process.exitCode = 1;
  return false;
}

/** A wrong option: one line and exit code 2, like kubectl. */
function usageError(message: string): void {
  console.error(`marina: ${message}`);
  process.exitCode = WAIT_EXIT.usage;
}

function versionInfo(): { version: string; api: string[]; node: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return { version: pkg.version, api: ['marina.dev/v1alpha1'], node: process.versions.node };
}

try {
  await program.parseAsync();
} catch (err) {
  if (!(err instanceof CredentialsError)) throw err;
  console.error(`marina: ${err.message}`);
  process.exitCode = 1;
}
