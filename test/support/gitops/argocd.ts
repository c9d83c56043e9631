import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../paths.js';
import { run } from '../processes.js';

export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

/** The health Argo CD would show for `object`, computed by the real Lua 5.1 interpreter from marina's script. */
export async function argoHealth(kind: 'Bay' | 'HostAggregate', object: unknown): Promise<{ status: ArgoHealthStatus; message: string }> {
  const script = join(repoRoot, 'deploy', 'argocd', kind === 'Bay' ? 'bay-health.lua' : 'hostaggregate-health.lua');
  // Argo CD hands the script the object as the global `obj` and reads the table it returns.
  const program = `obj = ${toLua(object)}\nlocal hs = assert(loadfile(${toLua(script)}))()\nio.write(hs.status, "\\n", hs.message or "")\n`;
  const result = await run('lua5.1', ['-'], { input: program, timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`lua5.1 failed: ${result.stderr}`);
  const [status = '', ...message] = result.stdout.split('\n');
  return { status: status as ArgoHealthStatus, message: message.join('\n') };
}

/** The scripts as the argocd-cm snippet embeds them. */
export async function argocdConfigMapScripts(): Promise<Record<string, string>> {
  const text = await readFile(join(repoRoot, 'deploy', 'argocd', 'argocd-cm.yaml'), 'utf8');
  return (parse(text) as { data: Record<string, string> }).data;
}

/** A JSON value as a Lua table constructor; strings escaped byte by byte (Lua 5.1 has no \u escapes). */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
  return `{${entries.map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`).join(', ')}}`;
}

function luaString(text: string): string {
  const bytes = [...Buffer.from(text, 'utf8')];
  // Three digits always: `\10` followed by a digit would read as another escape.
  const escaped = bytes.map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`));
  return `"${escaped.join('')}"`;
}
