import { join } from 'node:path';
import { run, type RunResult } from './processes.js';

export type Kubectl = (args: readonly string[], opts?: { input?: string; kubeconfig?: string }) => Promise<RunResult>;

/** How long a kubectl process may run when it is not told to wait longer itself. */
const DEFAULT_TIMEOUT_MS = 120_000;

/** The real kubectl against a test environment, as the given kubeconfig's identity (the admin by default). */
export function kubectlFor(kubeconfigPath: string, binDir: string): Kubectl {
  return (args, opts = {}) =>
    run(join(binDir, 'kubectl'), ['--kubeconfig', opts.kubeconfig ?? kubeconfigPath, ...args], {
      input: opts.input ?? '',
      timeoutMs: processTimeoutMs(args),
    });
}

/**
 * A kubectl given `--timeout=300s` (wait, delete) must not be killed before it gives up by itself and
 * says why: its own timeout plus a margin, or the default when that is longer.
 */
function processTimeoutMs(args: readonly string[]): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 } as const;
  const own = args.map((arg) => /^--timeout=(\d+)([smh])$/.exec(arg)).find((match) => match !== null);
  if (!own) return DEFAULT_TIMEOUT_MS;
  return Math.max(DEFAULT_TIMEOUT_MS, Number(own[1]) * unit[own[2] as keyof typeof unit] + 30_000);
}

/** Runs kubectl and fails with its stderr when it exits non-zero. */
export async function mustKubectl(kubectl: Kubectl, args: readonly string[], opts?: { input?: string; kubeconfig?: string }): Promise<string> {
  const result = await kubectl(args, opts);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** The namespace marina runs in and keeps bays' CAs and keys in (its default `--namespace`). */
export const OPERATOR_NAMESPACE = 'marina-system';

/** Creates the operator's namespace unless it exists: every file and benchmark that runs marina needs it. */
export async function ensureOperatorNamespace(kubectl: Kubectl): Promise<void> {
  if ((await kubectl(['get', 'namespace', OPERATOR_NAMESPACE, '-o', 'name'])).code === 0) return;
  const created = await kubectl(['create', 'namespace', OPERATOR_NAMESPACE]);
  if (created.code !== 0 && !created.stderr.includes('AlreadyExists')) throw new Error(`kubectl create namespace ${OPERATOR_NAMESPACE} failed: ${created.stderr}`);
}
