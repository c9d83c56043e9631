import { caBundle } from './ca-bundle.js';
import { escapeForShell, type ScriptShell } from './shell-quote.js';

/**
 * The bundle a user gets for a bay (`marina credentials`), laid out like docker-machine's and
 * Carina's: the three PEM files the Docker CLI reads from DOCKER_CERT_PATH, and one environment
 * script per shell. The scripts must name the directory the files end up in, which only the CLI
 * knows: stored bundles carry CERT_DIR_PLACEHOLDER and the CLI calls withCertDir when writing them.
 */

export const DOCKER_TLS_PORT = 2376;

/** Stands for the certificate directory until withCertDir replaces it (only safe characters, no quoting needed). */
export const CERT_DIR_PLACEHOLDER = '@MARINA_CERT_DIR@';

export const BUNDLE_FILES = {
  ca: 'ca.pem',
  cert: 'cert.pem',
  key: 'key.pem',
  posix: 'docker.env',
  fish: 'docker.fish',
  powershell: 'docker.ps1',
  cmd: 'docker.cmd',
} as const;

export interface DockerEndpoint {
  readonly address: string;
  readonly port?: number;
}

export interface CredentialsBundleInput {
  /** Trusted CAs; during a CA rotation [old, new] so the user's CLI trusts servers of both. */
  readonly caPems: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly endpoint: DockerEndpoint;
  /** Where the files will live; CERT_DIR_PLACEHOLDER when omitted. */
  readonly certDir?: string;
}

/** `tcp://10.0.0.5:2376`, `tcp://[fd00::5]:2376`. */
export function dockerHostUrl(endpoint: DockerEndpoint): string {
  const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  return `tcp://${host}:${endpoint.port ?? DOCKER_TLS_PORT}`;
}

/** File name → content. Pure: the caller writes the files (key.pem with mode 0600) or stores them in a Secret. */
export function credentialsBundle(input: CredentialsBundleInput): Record<string, string> {
  const settings: EnvironmentSettings = {
    dockerHost: dockerHostUrl(input.endpoint),
    certDir: input.certDir ?? CERT_DIR_PLACEHOLDER,
  };
  return {
    [BUNDLE_FILES.ca]: caBundle(input.caPems),
    [BUNDLE_FILES.cert]: input.certPem,
    [BUNDLE_FILES.key]: input.keyPem,
    ...environmentScripts(settings),
  };
}

/** The bundle with CERT_DIR_PLACEHOLDER replaced by `certDir`, escaped for each script's shell. */
export function withCertDir(bundle: Readonly<Record<string, string>>, certDir: string): Record<string, string> {
  const filled: Record<string, string> = { ...bundle };
  for (const shell of SHELLS) {
    const file = BUNDLE_FILES[shell];
    const script = bundle[file];
    if (script !== undefined) filled[file] = script.replaceAll(CERT_DIR_PLACEHOLDER, escapeForShell(shell, certDir));
  }
  return filled;
}

/** The environment scripts alone, e.g. for `marina env` printing one of them. */
export function environmentScripts(settings: EnvironmentSettings): Record<string, string> {
  return Object.fromEntries(SHELLS.map((shell) => [BUNDLE_FILES[shell], RENDERERS[shell](settings)]));
}

export interface EnvironmentSettings {
  readonly dockerHost: string;
  readonly certDir: string;
}

const SHELLS: readonly ScriptShell[] = ['posix', 'fish', 'powershell', 'cmd'];

type Renderer = (settings: EnvironmentSettings) => string;

const RENDERERS: Record<ScriptShell, Renderer> = {
  posix: ({ dockerHost, certDir }) =>
    lines('\n', [
      '# Docker CLI settings for a marina bay. Load with: . ./docker.env',
      `export DOCKER_HOST='${escapeForShell('posix', dockerHost)}'`,
      'export DOCKER_TLS_VERIFY=1',
      `export DOCKER_CERT_PATH='${escapeForShell('posix', certDir)}'`,
    ]),
  fish: ({ dockerHost, certDir }) =>
    lines('\n', [
      '# Docker CLI settings for a marina bay. Load with: source docker.fish',
      `set -gx DOCKER_HOST '${escapeForShell('fish', dockerHost)}'`,
      'set -gx DOCKER_TLS_VERIFY 1',
      `set -gx DOCKER_CERT_PATH '${escapeForShell('fish', certDir)}'`,
    ]),
  powershell: ({ dockerHost, certDir }) =>
    lines('\n', [
      '# Docker CLI settings for a marina bay. Load with: . .\\docker.ps1',
      `$Env:DOCKER_HOST='${escapeForShell('powershell', dockerHost)}'`,
      `$Env:DOCKER_TLS_VERIFY='1'`,
      `$Env:DOCKER_CERT_PATH='${escapeForShell('powershell', certDir)}'`,
    ]),
  // CRLF: cmd.exe misreads some LF-only batch files. `@` keeps each line from being echoed.
  cmd: ({ dockerHost, certDir }) =>
    lines('\r\n', [
      '@rem Docker CLI settings for a marina bay. Load with: call docker.cmd',
      `@set "DOCKER_HOST=${escapeForShell('cmd', dockerHost)}"`,
      '@set "DOCKER_TLS_VERIFY=1"',
      `@set "DOCKER_CERT_PATH=${escapeForShell('cmd', certDir)}"`,
    ]),
};

function lines(eol: string, content: readonly string[]): string {
  return content.map((line) => line + eol).join('');
}
