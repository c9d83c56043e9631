import { createHash, randomBytes } from 'node:crypto';

/**
 * Identifiers, tokens, certificates-as-text and filters of the simulated swarms, shaped like what
 * dockerd sends: 25-character IDs, `SWMTKN-1-<root digest>-<secret>` join tokens, PEM trust roots.
 */

/** An error dockerd answers with: HTTP status and its `{"message": ...}`. */
export class DockerApiError extends Error {
  override readonly name = 'DockerApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const NOT_IN_SWARM_MANAGER =
  'This node is not a swarm manager. ' +
  'Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const WORKER_NOT_MANAGER =
  "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. " +
  'Please run this command on a manager node or promote the current node to a manager.';
export const NO_LEADER =
  'rpc error: code = Unknown desc = ' +
  "The swarm does not have a leader. It's possible that too few managers are online. " +
  'Make sure more than half of the managers are online.';
export const ALREADY_IN_SWARM =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
export const NOT_PART_OF_SWARM = 'This node is not part of a swarm';
export const OUT_OF_SEQUENCE = 'rpc error: code = Unknown desc = update out of sequence';

/** Swarm's object IDs: 25 lowercase base-36 characters. */
export function newSwarmId(): string {
  let id = '';
  while (id.length < 25) id += BigInt(`0x${randomBytes(16).toString('hex')}`).toString(36);
  return id.slice(0, 25);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The PEM of a swarm's root CA of a given generation (a stand-in: no key exists behind it). */
export function trustRootPem(clusterId: string, generation: number): string {
  const body = Buffer.concat([digest(`root:${clusterId}:${generation}`), digest(`body:${clusterId}:${generation}`)]);
  const base64 = Buffer.concat([body, body, body, body, body, body]).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** DER of `CN=swarm-ca`, base64: every swarm root has that subject, before and after a rotation. */
export const SWARM_CA_SUBJECT = 'MBMxETAPBgNVBAMTCHN3YXJtLWNh';

/** An ECDSA P-256 public key's SubjectPublicKeyInfo, base64; one per root generation. */
export function issuerPublicKey(clusterId: string, generation: number): string {
  const prefix = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
  const point = Buffer.concat([
    Buffer.from([4]),
    digest(`x:${clusterId}:${generation}`),
    digest(`y:${clusterId}:${generation}`),
  ]);
  return Buffer.concat([prefix, point]).toString('base64');
}

/** The root digest part of a join token: base 36 of the root's SHA-256, padded to 50 characters. */
export function rootDigest(clusterId: string, generation: number): string {
  const hash = BigInt(`0x${digest(trustRootPem(clusterId, generation)).toString('hex')}`);
  return hash.toString(36).padStart(50, '0');
}

export function joinToken(clusterId: string, generation: number): string {
  return `SWMTKN-1-${rootDigest(clusterId, generation)}-${newSwarmId()}`;
}

const TOKEN = /^SWMTKN-1-([0-9a-z]{50})-([0-9a-z]{25})$/;

/** The root digest a token names, or undefined for something that is not a join token. */
export function tokenDigest(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

/** Filters of a list call: `{"role":["manager"]}` or the older `{"role":{"manager":true}}`. */
export type Filters = ReadonlyMap<string, readonly string[]>;

export function parseFilters(raw: string | null): Filters {
  if (raw === null || raw === '') return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new DockerApiError(400, `invalid filter '${raw}'`);
  }
  const filters = new Map<string, string[]>();
  for (const [key, value] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      filters.set(key, value.map(String));
    } else if (value && typeof value === 'object') {
      const enabled = value as Record<string, unknown>;
      filters.set(
        key,
        Object.keys(enabled).filter((wanted) => enabled[wanted]),
      );
    }
  }
  return filters;
}

/** Every filter given for `key` is satisfied by one of `values` (no filter for it: true). */
export function passes(filters: Filters, key: string, matches: (wanted: string) => boolean): boolean {
  const wanted = filters.get(key);
  return wanted === undefined || wanted.length === 0 || wanted.some(matches);
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
