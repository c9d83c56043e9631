import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { credentialsSecretName } from '../controllers/bay/names.js';
import { BAY, SECRET, type SecretObject } from '../controllers/kinds.js';
import type { Bay } from '../api/types.generated.js';
import { BUNDLE_FILES, environmentScripts } from '../pki/index.js';
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

/**
 * What the CLI takes from the cluster: the three PEM files of the credentials Secret and the bay's
 * endpoint from its status. Nothing else of the Secret is used — no file name, no script: whoever can
 * write that Secret must not be able to make `marina credentials` write outside its directory, nor
 * `marina env` print a command of their choosing.
 */
export interface Bundle {
  readonly namespace: string;
  readonly pems: { readonly ca: string; readonly cert: string; readonly key: string };
  /** `tcp://address:port`, checked to be just that. */
  readonly dockerHost: string;
}

const ENDPOINT = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export async function fetchBundle(ref: BayRef): Promise<Bundle> {
  const kubeConfig = new KubeConfig();
  if (ref.kubeconfig) kubeConfig.loadFromFile(ref.kubeconfig);
  else kubeConfig.loadFromDefault();
  const namespace = ref.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  const client = await KubeClient.fromKubeConfig(kubeConfig);
  const notYet = `bay ${namespace}/${ref.bay} has no credentials yet: marina wait ${ref.bay} -n ${namespace}`;
  try {
    const bay = await client.get<Bay>(BAY, { namespace, name: ref.bay });
    const dockerHost = bay.status?.endpoint;
    if (!dockerHost) throw new CredentialsError(notYet);
    if (!ENDPOINT.test(dockerHost)) throw new CredentialsError(`bay ${namespace}/${ref.bay} reports an endpoint that is not tcp://address:port`);
    const secret = await client.get<SecretObject>(SECRET, { namespace, name: credentialsSecretName(ref.bay) });
    const file = (name: string): string => Buffer.from(secret.data?.[name] ?? '', 'base64').toString('utf8');
    const pems = { ca: file(BUNDLE_FILES.ca), cert: file(BUNDLE_FILES.cert), key: file(BUNDLE_FILES.key) };
    if (!Object.values(pems).every((pem) => pem.startsWith('-----BEGIN '))) {
      throw new CredentialsError(`the credentials of bay ${namespace}/${ref.bay} are incomplete; is the bay Ready?`);
    }
    return { namespace, pems, dockerHost };
  } catch (err) {
    if (isNotFound(err)) throw new CredentialsError(notYet);
    throw err;
  } finally {
    client.close();
  }
}

/**
 * Writes the bundle into `dir`, replacing the bundle's own files (a stale bundle is worse than none)
 * and nothing else: the directory 0700 and every file 0600, also when the directory existed; the
 * scripts rendered here, pointing at `dir`.
 */
export async function writeBundle(bundle: Bundle, dir: string): Promise<{ paths: string[]; scripts: Record<string, string> }> {
  const absolute = resolve(dir);
  await mkdir(absolute, { recursive: true, mode: 0o700 });
  await chmod(absolute, 0o700);
  const scripts = environmentScripts({ dockerHost: bundle.dockerHost, certDir: absolute });
  const files: Record<string, string> = {
    [BUNDLE_FILES.ca]: bundle.pems.ca,
    [BUNDLE_FILES.cert]: bundle.pems.cert,
    [BUNDLE_FILES.key]: bundle.pems.key,
    ...scripts,
  };
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const path = join(absolute, name);
    await writeFile(path, content, { mode: 0o600 });
    await chmod(path, 0o600);
    written.push(path);
  }
  return { paths: written.sort(), scripts };
}

/** Where `marina env` keeps a bay's bundle, like docker-machine's machine directories. */
export function defaultCertDir(namespace: string, bay: string): string {
  return join(process.env.MARINA_HOME ?? join(homedir(), '.marina'), 'bays', namespace, bay);
}

/** The lines `marina env` prints for a shell: rendered by marina, never read from the cluster. */
export function scriptFor(scripts: Readonly<Record<string, string>>, shell: Shell): string {
  return scripts[SCRIPT_OF_SHELL[shell]]!;
}

export function detectShell(env: NodeJS.ProcessEnv = process.env): Shell {
  const shell = env.SHELL ?? '';
  if (shell.endsWith('fish')) return 'fish';
  if (shell.endsWith('zsh')) return 'zsh';
  return 'bash';
}
