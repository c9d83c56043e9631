import { spawn, type ChildProcess } from 'node:child_process';
import { mustKubectl, type Kubectl } from './kubectl.js';

/**
 * Finds private key material where a tenant or an operator log can show it: Events, the status of bays
 * and aggregates, the operator's log lines. Three kinds of finding, from the weakest to the strongest:
 * a PEM private key block of any key, the same block base64-encoded once (as inside a Secret's data
 * copied elsewhere), and a fragment of one of the private keys the cluster actually keeps in its
 * Secrets (any 40-character run of its base64 body, or of the base64 encoding of the key). Findings
 * say where, never what: a report must not leak the key it found.
 */

/** A text to scan, and where it was read. */
export interface ScannedText {
  /** The kind of place, e.g. "operator log", "Event", "Bay". */
  readonly source: string;
  /** Which one, e.g. "line 17", "team-a/web". */
  readonly location: string;
  readonly text: string;
}

/** A private key the cluster keeps, and where. */
export interface KnownPrivateKey {
  /** e.g. "Secret team-a/web-ca, key tls.key". */
  readonly owner: string;
  /** The PEM block as found there. */
  readonly pem: string;
}

export interface KeyMaterialFinding {
  readonly source: string;
  readonly location: string;
  readonly kind: string;
  /** For a fragment: the owner of the key it comes from. */
  readonly keyOwner?: string;
}

/** A fragment this long cannot be a coincidence: 40 base64 characters are 240 bits. */
export const FRAGMENT_LENGTH = 40;

/** The start of a PEM private key block: the header, then the start of a body (plain or encrypted). */
const PEM_PRIVATE_KEY_START = new RegExp(
  String.raw`-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----` + // the header, e.g. "RSA PRIVATE KEY"
    String.raw`(?:\s|\\[nrt])*` + // line breaks, real or escaped in JSON
    String.raw`(?:Proc-Type:|[A-Za-z0-9+/]{16})`, // an encrypted key's header, or the body
  'g',
);
/** A whole PEM private key block, to take the cluster's keys out of Secrets. */
const PEM_PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g;
/** A run long enough to hold an encoded PEM header. */
const BASE64_RUN = /[A-Za-z0-9+/]{40,}/g;

/** The labels ("RSA PRIVATE KEY", "PRIVATE KEY"...) of the PEM private key blocks in the text. */
export function pemPrivateKeyLabels(text: string): string[] {
  return [...text.matchAll(PEM_PRIVATE_KEY_START)].map((match) => match[1]!);
}

/**
 * The labels of the PEM private key blocks base64-encoded in the text. Line breaks (real or escaped
 * in JSON) are dropped first, since encoders wrap lines; each run is decoded from each of its first
 * four characters, in case the run is glued to a word before it.
 */
export function base64PemPrivateKeyLabels(text: string): string[] {
  const runs = withoutLineBreaks(text).match(BASE64_RUN) ?? [];
  return runs.flatMap((run) => {
    for (let shift = 0; shift < 4; shift++) {
      const labels = pemPrivateKeyLabels(Buffer.from(run.slice(shift), 'base64').toString('latin1'));
      if (labels.length > 0) return labels;
    }
    return [];
  });
}

/** The complete PEM private key blocks in a text (a Secret's decoded value). */
export function privateKeysIn(text: string, owner: string): KnownPrivateKey[] {
  return [...text.matchAll(PEM_PRIVATE_KEY_BLOCK)].map((match) => ({ owner, pem: match[0] }));
}

/** The base64 body of a PEM block: its header lines (Proc-Type, DEK-Info) and all whitespace removed. */
export function pemBody(pem: string): string {
  const inner = pem.split('\n').filter((line) => !line.startsWith('-----') && !line.includes(':'));
  return inner.join('').replace(/\s/g, '');
}

/**
 * Every way a known key's characters could show up: its base64 body, and the base64 encodings of the
 * body and of the PEM text at each of the three byte alignments (an encoded copy of a larger text that
 * holds the key matches one of them from its second 4-character group on).
 */
function keyForms(key: KnownPrivateKey): { kind: string; chars: string }[] {
  const body = pemBody(key.pem);
  const alignments = (text: string): string[] =>
    [0, 1, 2].map((skip) => Buffer.from(text.slice(skip)).toString('base64'));
  const encoded = [...alignments(body), ...alignments(key.pem)];
  return [
    { kind: 'fragment of a known private key', chars: body },
    ...encoded.map((chars) => ({ kind: 'base64-encoded fragment of a known private key', chars })),
  ];
}

const ANCHOR = FRAGMENT_LENGTH / 2;

interface Anchor {
  readonly owner: string;
  readonly kind: string;
  readonly chars: string;
  readonly at: number;
}

/**
 * Finds any run of FRAGMENT_LENGTH characters shared with a known key's forms. Each form is indexed by
 * its 20-character pieces at multiples of 20: a shared 40-character run always contains one of them
 * whole, so the text is looked up at every position and each hit is extended both ways to measure it.
 */
export class KeyFragmentIndex {
  private readonly anchors = new Map<string, Anchor[]>();

  constructor(keys: readonly KnownPrivateKey[]) {
    // The same key may come from a watch and from a listing: index it once.
    const unique = new Map(keys.map((key) => [`${key.owner}\n${key.pem}`, key]));
    for (const key of unique.values()) {
      for (const form of keyForms(key)) {
        for (let at = 0; at + ANCHOR <= form.chars.length; at += ANCHOR) {
          const piece = form.chars.slice(at, at + ANCHOR);
          const anchor = { owner: key.owner, kind: form.kind, chars: form.chars, at };
          this.anchors.set(piece, [...(this.anchors.get(piece) ?? []), anchor]);
        }
      }
    }
  }

  /** The keys (owner and form) that share a long enough run with the text. */
  find(text: string): { owner: string; kind: string }[] {
    const compact = text.replace(/\\[nrt]|\s/g, '');
    const found = new Map<string, { owner: string; kind: string }>();
    for (let position = 0; position + ANCHOR <= compact.length; position++) {
      for (const anchor of this.anchors.get(compact.slice(position, position + ANCHOR)) ?? []) {
        if (sharedRunLength(compact, position, anchor) >= FRAGMENT_LENGTH) {
          found.set(`${anchor.owner}\n${anchor.kind}`, { owner: anchor.owner, kind: anchor.kind });
        }
      }
    }
    return [...found.values()];
  }
}

/** How long the run of characters the text and the anchor's form share around the anchor is. */
function sharedRunLength(text: string, position: number, anchor: Anchor): number {
  const { chars, at } = anchor;
  let before = 0;
  while (position > before && at > before && text[position - before - 1] === chars[at - before - 1]) before++;
  let after = 0;
  const same = (offset: number): boolean => text[position + ANCHOR + offset] === chars[at + ANCHOR + offset];
  while (at + ANCHOR + after < chars.length && position + ANCHOR + after < text.length && same(after)) after++;
  return before + ANCHOR + after;
}

/** Every finding in the texts, one per place and kind (and key, for fragments). */
export function findKeyMaterial(texts: readonly ScannedText[], keys: readonly KnownPrivateKey[]): KeyMaterialFinding[] {
  const index = new KeyFragmentIndex(keys);
  return texts.flatMap(({ source, location, text }) => {
    const at = { source, location };
    const labels = new Set(pemPrivateKeyLabels(text));
    const encodedLabels = new Set(base64PemPrivateKeyLabels(text));
    return [
      ...[...labels].map((label) => ({ ...at, kind: `PEM private key block (${label})` })),
      ...[...encodedLabels].map((label) => ({ ...at, kind: `base64-encoded PEM private key block (${label})` })),
      ...index.find(text).map(({ owner, kind }) => ({ ...at, kind, keyOwner: owner })),
    ];
  });
}

/** One line per finding: where, and what kind; never the material. */
export function describeFindings(findings: readonly KeyMaterialFinding[]): string {
  return findings
    .map((f) => `${f.source} ${f.location}: ${f.kind}${f.keyOwner === undefined ? '' : ` (the key in ${f.keyOwner})`}`)
    .join('\n');
}

function withoutLineBreaks(text: string): string {
  return text.replace(/\\[nr]|[\r\n]/g, '');
}

// --- Reading the cluster with the real kubectl --------------------------------------------------

interface KubeList<T> {
  items: T[];
}

interface SecretItem {
  metadata: { namespace?: string; name: string };
  data?: Record<string, string> | null;
}

/** The private keys kept in a Secret's data, each named by the Secret and its data key. */
export function privateKeysOfSecret(secret: SecretItem): KnownPrivateKey[] {
  const name = `${secret.metadata.namespace ?? ''}/${secret.metadata.name}`;
  return Object.entries(secret.data ?? {}).flatMap(([key, value]) =>
    privateKeysIn(Buffer.from(value, 'base64').toString('utf8'), `Secret ${name}, key ${key}`),
  );
}

/** Every private key in every Secret of the cluster now. */
export async function clusterPrivateKeys(kubectl: Kubectl): Promise<KnownPrivateKey[]> {
  const list = JSON.parse(await mustKubectl(kubectl, ['get', 'secrets', '-A', '-o', 'json'])) as KubeList<SecretItem>;
  return list.items.flatMap(privateKeysOfSecret);
}

interface KubeItem {
  kind?: string;
  metadata: { namespace?: string; name: string };
  reason?: string;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
}

function itemLocation(item: KubeItem): string {
  return item.metadata.namespace ? `${item.metadata.namespace}/${item.metadata.name}` : item.metadata.name;
}

/** Each object of a `kubectl get -o json` list as a text of its own, so that a finding names the object. */
async function objectTexts(kubectl: Kubectl, what: string): Promise<{ item: KubeItem; text: string }[]> {
  const list = JSON.parse(await mustKubectl(kubectl, ['get', what, '-A', '-o', 'json'])) as KubeList<KubeItem>;
  return list.items.map((item) => ({ item, text: JSON.stringify(item) }));
}

/** Every Event in the cluster; the location names the Event, its reason and what it is about. */
export async function eventTexts(kubectl: Kubectl): Promise<ScannedText[]> {
  return (await objectTexts(kubectl, 'events')).map(({ item, text }) => {
    const about = item.involvedObject;
    const aboutName = about?.namespace ? `${about.namespace}/${about.name ?? '?'}` : (about?.name ?? '?');
    const regarding = about ? `, regarding ${about.kind ?? '?'} ${aboutName}` : '';
    return { source: 'Event', location: `${itemLocation(item)} (reason ${item.reason ?? '?'}${regarding})`, text };
  });
}

/** Every Bay and HostAggregate in the cluster, status included. */
export async function marinaObjectTexts(kubectl: Kubectl): Promise<ScannedText[]> {
  return (await objectTexts(kubectl, 'bays,hostaggregates')).map(({ item, text }) => ({
    source: item.kind ?? 'object',
    location: itemLocation(item),
    text,
  }));
}

/** Log lines as texts, numbered from 1. */
export function logTexts(source: string, lines: readonly string[]): ScannedText[] {
  return lines.map((text, i) => ({ source, location: `line ${i + 1}`, text }));
}

/**
 * Remembers the private keys of every Secret that exists while it runs (`kubectl get secrets --watch`),
 * so that a key whose Secret was deleted meanwhile (a bay deleted under Delete) is still recognised.
 */
export class SecretKeyWatch {
  private child: ChildProcess | undefined;
  private restart: NodeJS.Timeout | undefined;
  private stopping = false;
  private pending = '';
  private readonly keys = new Map<string, KnownPrivateKey>();

  constructor(private readonly kubectlPath: string, private readonly kubeconfigPath: string) {}

  start(): void {
    // kubectl aligns jsonpath output with a tab writer: a tab becomes spaces, so fields are split on blanks.
    const template = '{.metadata.namespace}{"/"}{.metadata.name}{" "}{.data}{"\\n"}';
    const args = ['--kubeconfig', this.kubeconfigPath, 'get', 'secrets', '-A', '--watch', '-o', `jsonpath=${template}`];
    const child = spawn(this.kubectlPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.take(chunk));
    // The apiserver ends a watch after a while; a new one lists every Secret again.
    child.once('exit', () => {
      if (!this.stopping) this.restart = setTimeout(() => this.start(), 1_000);
    });
    this.child = child;
  }

  /** Stops the watch (the child this started, by its handle). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restart);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Every key seen so far, deduplicated by owner and content. */
  seen(): KnownPrivateKey[] {
    return [...this.keys.values()];
  }

  private take(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) {
      const blank = line.indexOf(' ');
      const [namespace = '', name = ''] = line.slice(0, blank).split('/');
      const data = line.slice(blank + 1).trim();
      if (blank < 0 || data === '') continue;
      for (const key of privateKeysOfSecret({ metadata: { namespace, name }, data: parseData(data) })) {
        this.keys.set(`${key.owner}\n${key.pem}`, key);
      }
    }
  }
}

/** A Secret's data map as jsonpath printed it; an unreadable line is kept as a key-less Secret. */
function parseData(text: string): Record<string, string> {
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}
