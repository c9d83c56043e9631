#!/usr/bin/env node
import { Command } from 'commander';
import { findLocalSocket } from '../hosts/index.js';
import { buildNodeImage, DEFAULT_IMAGE_ALIAS } from './image.js';
import { runValidate } from './validate.js';

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

const image = program.command('image').description('Node images on LXD/Incus hosts');

image
  .command('build')
  .description('Build the node image (Debian with Docker) with debootstrap and import it on a host under a stable alias; cached, so a second run takes seconds')
  .option('--endpoint <url>', 'the host: unix:///path/to/unix.socket (default: the local LXD or Incus socket)')
  .option('--alias <alias>', 'image alias on the host', DEFAULT_IMAGE_ALIAS)
  .option('--mirror <url>', 'Debian mirror (default: the one this machine\'s apt sources use)')
  .option('--format <format>', 'root filesystem as squashfs (smaller) or tar (faster to pack)', 'squashfs')
  .option('--rebuild', 'build the root filesystem again even when the cache has it')
  .option('--cache-dir <dir>', 'cache directory (default: $MARINA_CACHE or ~/.cache/marina)')
  .action(async (opts: { endpoint?: string; alias: string; mirror?: string; format: string; rebuild?: boolean; cacheDir?: string }) => {
    const format = opts.format;
    if (format !== 'squashfs' && format !== 'tar') return program.error(`--format must be squashfs or tar, not ${format}`);
    const endpoint = opts.endpoint ?? (await findLocalSocket());
    if (!endpoint) return program.error('no local LXD or Incus socket found: pass --endpoint');
    const result = await buildNodeImage({
      endpoint,
      alias: opts.alias,
      format,
      rebuild: opts.rebuild ?? false,
      ...(opts.mirror ? { mirror: opts.mirror } : {}),
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      log: (line) => console.error(line),
    });
    console.log(`${result.alias} ${result.fingerprint} (${result.built ? `built in ${(result.buildMs / 1000).toFixed(1)} s` : 'from cache'}, ${result.imported ? 'imported' : 'already on the host'})`);
  });

await program.parseAsync();
