import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { credentialsSecretName } from '../controllers/bay/names.js';
import { SECRET, type SecretObject } from '../controllers/kinds.js';
import { BUNDLE_FILES, withCertDir } from '../pki/index.js';
import { isNotFound } from '../runtime/errors.js';
import { KubeClient } from '../runtime/kube-client.js';

export type Shell = 'bash' | 'zsh' | 'sh' | 'fish' | 'powershell' | 'cmd';

const SCRIPT_OF_SHELL: Record<Shell, string> = {
  bash: BUNDLE_FILES.posix,
  zsh: BUNDLE_FILES.posix,
  sh: BUNDLE_FILES.posix,
  fish: BUNDLE_FILES.fish,
  powershell: BUNDLE_FILES.powershell,
  cmd: BUNDLE_FILES.cmd,
};

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export interface BayRef {
  readonly bay: string;
  readonly namespace?: string;
  readonly kubeconfig?: string;
}

/** The bundle as marina stored it in the bay's credentials Secret (scripts still carry the placeholder). */
export async function fetchBundle(ref: BayRef): Promise<{ namespace: string; files: Record<string, string> }> {
  const kubeConfig = new KubeConfig();
  if (ref.kubeconfig) kubeConfig.loadFromFile(ref.kubeconfig);
  else kubeConfig.loadFromDefault();
  const namespace = ref.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  try {
    const secret = await client.get<SecretObject>(SECRET, { namespace, name: credentialsSecretName(ref.bay) });
    const files = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    if (!files[BUNDLE_FILES.cert]) throw new CredentialsError(`the credentials of bay ${namespace}/${ref.bay} are incomplete; is the bay Ready?`);
    return { namespace, files };
  } catch (err) {
    if (isNotFound(err)) throw new CredentialsError(`bay ${namespace}/${ref.bay} has no credentials yet: wait until it is Ready (kubectl wait --for=condition=Ready bay/${ref.bay} -n ${namespace})`);
    throw err;
  } finally {
    client.close();
  }
}

/**
 * Writes the bundle into `dir`, replacing files that exist (a stale bundle is worse than none): the key
 * readable by its owner only, the scripts pointing at `dir`.
 */
export async function writeBundle(files: Readonly<Record<string, string>>, dir: string): Promise<{ paths: string[]; filled: Record<string, string> }> {
  const absolute = resolve(dir);
  await mkdir(absolute, { recursive: true, mode: 0o700 });
  const filled = withCertDir(files, absolute);
  const written: string[] = [];
  for (const [name, content] of Object.entries(filled)) {
    const path = join(absolute, name);
    const mode = name === BUNDLE_FILES.key ? 0o600 : 0o644;
    await writeFile(path, content, { mode });
    await chmod(path, mode);
    written.push(path);
  }
  return { paths: written.sort(), filled };
}

/** Where `marina env` keeps a bay's bundle, like docker-machine's machine directories. */
export function defaultCertDir(namespace: string, bay: string): string {
  return join(process.env.MARINA_HOME ?? join(homedir(), '.marina'), 'bays', namespace, bay);
}

export function scriptFor(files: Readonly<Record<string, string>>, shell: Shell): string {
  const script = files[SCRIPT_OF_SHELL[shell]];
  if (script === undefined) throw new CredentialsError(`the bundle has no ${SCRIPT_OF_SHELL[shell]}`);
  return script;
}

export function detectShell(env: NodeJS.ProcessEnv = process.env): Shell {
  const shell = env.SHELL ?? '';
  if (shell.endsWith('fish')) return 'fish';
  if (shell.endsWith('zsh')) return 'zsh';
  return 'bash';
}
