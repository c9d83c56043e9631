import { join } from 'node:path';
import { run, type RunResult } from './processes.js';

export type Kubectl = (args: readonly string[], opts?: { input?: string; kubeconfig?: string }) => Promise<RunResult>;

/** The real kubectl against a test environment, as the given kubeconfig's identity (the admin by default). */
export function kubectlFor(kubeconfigPath: string, binDir: string): Kubectl {
  return (args, opts = {}) => run(join(binDir, 'kubectl'), ['--kubeconfig', opts.kubeconfig ?? kubeconfigPath, ...args], { input: opts.input ?? '' });
}

/** Runs kubectl and fails with its stderr when it exits non-zero. */
export async function mustKubectl(kubectl: Kubectl, args: readonly string[], opts?: { input?: string; kubeconfig?: string }): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}
