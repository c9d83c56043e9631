import { Agent } from 'node:https';
import { inspect } from 'node:util';
import { checkServerIdentity, createSecureContext, type SecureContext } from 'node:tls';
import Docker from 'dockerode';
import { SwarmError } from './errors.js';

/** dockerd's TLS port by convention (2375 is plain HTTP, never used). */
export const DOCKER_TLS_PORT = 2376;

const DEFAULT_TIMEOUT_MS = 30_000;

export interface DockerClientOptions {
  /** The node's IP address; it must be an IP SAN of the node's server certificate. */
  readonly address: string;
  readonly port?: number;
  /** Trusted CAs: during a CA rotation both the old and the new one. */
  readonly caPems: readonly string[];
  /** The operator's client certificate and its PKCS#8 (or PKCS#1) key. */
  readonly certPem: string;
  readonly keyPem: string;
  /** Per request: no answer (or no progress) for this long fails the call. Default 30 s. */
  readonly timeoutMs?: number;
  /** Pin the Engine API version (`v1.41`); by default dockerd's own. */
  readonly apiVersion?: string;
}

/** A dockerode instance bound to one node's dockerd over mutual TLS, with the address errors name. */
export interface DockerClient {
  readonly address: string;
  readonly port: number;
  /** `address:port`, as written in errors. */
  readonly endpoint: string;
  readonly docker: Docker;
}

/**
 * Connects to a node's dockerd with the operator's client certificate.
 *
 * Everything is passed explicitly: docker-modem otherwise fills in DOCKER_HOST, DOCKER_CERT_PATH
 * (reading key files from disk) and friends from the process environment, which is hidden while the
 * client is built. The certificate and key go into a TLS context held by a dedicated agent instead of
 * dockerode's `cert`/`key` options, so they are not copied into every request's options (which
 * docker-modem prints when DEBUG=modem is set). The server is verified the standard way: against the
 * given CAs only, and with Node's checkServerIdentity, which for an IP address requires a matching IP
 * SAN.
 */
export function dockerClient(options: DockerClientOptions): DockerClient {
  const port = options.port ?? DOCKER_TLS_PORT;
  const endpoint = `${options.address}:${port}`;
  const agent = new Agent({
    secureContext: clientTlsContext(options, endpoint),
    rejectUnauthorized: true,
    checkServerIdentity,
    // No connection reuse: during rotation dockerd restarts, and a pooled socket would be stale; the
    // operator makes a handful of calls per node and reconcile.
    keepAlive: false,
  });
  // docker-modem formats every request's options with util.inspect (showHidden, unlimited depth) before
  // it knows whether DEBUG=modem is on: walking the agent, its sockets and TLS state took a sixth of
  // the operator's CPU while a 10-node bay booted. The agent shows as one line instead.
  Object.defineProperty(agent, inspect.custom, { value: () => `[Agent: TLS to dockerd at ${endpoint}]` });
  const dockerOptions: Docker.DockerOptions & { agent: Agent } = {
    host: options.address,
    port,
    protocol: 'https',
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    agent,
    ...(options.apiVersion === undefined ? {} : { version: options.apiVersion }),
  };
  const docker = withoutDockerEnvironment(() => new Docker(dockerOptions));
  return { address: options.address, port, endpoint, docker };
}

function clientTlsContext(options: DockerClientOptions, endpoint: string): SecureContext {
  try {
    return createSecureContext({ ca: [...options.caPems], cert: options.certPem, key: options.keyPem, minVersion: 'TLSv1.2' });
  } catch (error) {
    // OpenSSL's message names the failing decoder, not the key; still, only the code is kept.
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new SwarmError('tls', { address: endpoint, operation: 'client-setup' }, `client certificate, key or CA bundle rejected (${code})`);
  }
}

/** What docker-modem reads from the environment when it builds a client (docker-modem 5 `defaultOpts`). */
const DOCKER_ENVIRONMENT = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CLIENT_TIMEOUT', 'DOCKER_PATH_PREFIX'] as const;

/** Runs `build` with those variables unset; synchronous, so no other code observes the gap. */
function withoutDockerEnvironment<T>(build: () => T): T {
  const saved = DOCKER_ENVIRONMENT.filter((name) => name in process.env).map((name) => [name, process.env[name]] as const);
  for (const [name] of saved) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of saved) process.env[name] = value;
  }
}
