#!/usr/bin/env node
import { Command } from 'commander';
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

await program.parseAsync();
