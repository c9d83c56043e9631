import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { KubeEnv } from '../../test/support/kube-env.js';

/**
 * Waits for a bay to be Ready for its spec through one `kubectl get bay --watch`, as a user watching
 * `kubectl get bays -w` would. Polling with a kubectl process every 50 ms kept half a core of a
 * 2-core machine busy starting kubectl, slowing the very boots being measured.
 */

// kubectl aligns jsonpath output with a tab writer: fields are separated by blanks, one object a line.
const TEMPLATE =
  '{.metadata.generation}{" "}{.status.observedGeneration}{" "}{.spec.nodes}{" "}{.status.readyNodes}{" "}' +
  '{.status.conditions[?(@.type=="Ready")].status}{"\\n"}';

/** One line of the watch: Ready, observed at the current generation, with every declared node ready. */
export function readyLine(line: string): boolean {
  const [generation, observed, nodes, readyNodes, ready] = line.trim().split(/\s+/);
  return ready === 'True' && generation === observed && nodes === readyNodes && nodes !== undefined;
}

export function waitBayReady(env: KubeEnv, namespace: string, name: string, timeoutMs: number): Promise<void> {
  const args = ['--kubeconfig', env.kubeconfigPath, 'get', 'bay', name, '-n', namespace, '--watch'];
  args.push('-o', `jsonpath=${TEMPLATE}`);
  const child = spawn(join(env.binDir, 'kubectl'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let pending = '';
  let stderr = '';
  return new Promise<void>((resolve, reject) => {
    const late = (): void => finish(new Error(`bay ${namespace}/${name} not Ready within ${timeoutMs} ms`));
    const timer = setTimeout(late, timeoutMs);
    function finish(error?: Error): void {
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (error) reject(error);
      else resolve();
    }
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      if (lines.some(readyLine)) finish();
    });
    // The apiserver ends a watch after minutes, longer than any wait here: an early end is an error.
    child.once('exit', (code) => finish(new Error(`kubectl watch of bay ${name} ended (${code}): ${stderr.trim()}`)));
  });
}
