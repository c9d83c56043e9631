import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The Debian mirror the build machine already uses, read from its apt sources, so the image build
 * works wherever apt works (behind a local mirror or proxy) without naming a mirror in marina.
 */
export interface AptSource {
  readonly uri: string;
  readonly suites: readonly string[];
  readonly components: readonly string[];
}

export interface AptSourceLocations {
  readonly sourcesList: string;
  readonly sourcesDir: string;
}

const DEFAULT_LOCATIONS: AptSourceLocations = {
  sourcesList: '/etc/apt/sources.list',
  sourcesDir: '/etc/apt/sources.list.d',
};

export class NoMirrorError extends Error {
  constructor(suite: string) {
    super(`no apt source for suite ${suite} with component main was found; pass a mirror explicitly`);
    this.name = 'NoMirrorError';
  }
}

/**
 * The first enabled `deb` source that serves `suite` (exactly, not -updates/-security) with `main`; else
 * the archive this machine takes another release from (a Debian mirror serves every suite), so a
 * bookworm machine builds a trixie image from the mirror it already uses.
 */
export async function findDebianMirror(suite: string, locations = DEFAULT_LOCATIONS): Promise<string> {
  const sources = (await readAptSources(locations)).filter((source) => source.components.includes('main'));
  const match =
    sources.find((source) => source.suites.includes(suite)) ??
    sources.find((source) => source.suites.some((s) => !s.includes('-')) && !/security/.test(source.uri));
  if (!match) throw new NoMirrorError(suite);
  return match.uri;
}

export async function readAptSources(locations: AptSourceLocations): Promise<AptSource[]> {
  const sources: AptSource[] = parseOneLineSources(await readOptional(locations.sourcesList));
  for (const file of await listOptional(locations.sourcesDir)) {
    const text = await readOptional(join(locations.sourcesDir, file));
    if (file.endsWith('.list')) sources.push(...parseOneLineSources(text));
    if (file.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
  }
  return sources;
}

/** `deb [options] uri suite component...`; `deb-src` and comments are skipped. */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, uri = '', suite = '', components = ''] = match;
    sources.push({ uri, suites: [suite], components: components.split(/\s+/).filter(Boolean) });
  }
  return sources;
}

/** deb822 stanzas (`Types: deb`, `URIs:`, `Suites:`, `Components:`, optional `Enabled: no`). */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = parseStanza(stanza);
    const types = words(fields.get('types'));
    if (!types.includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue;
    const suites = words(fields.get('suites'));
    const components = words(fields.get('components'));
    for (const uri of words(fields.get('uris'))) sources.push({ uri, suites, components });
  }
  return sources;
}

function parseStanza(stanza: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | undefined;
  for (const line of stanza.split('\n')) {
    if (line.startsWith('#')) continue;
    const field = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (field) {
      current = (field[1] ?? '').toLowerCase();
      fields.set(current, field[2] ?? '');
    } else if (current !== undefined && /^\s/.test(line)) {
      fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`); // continuation line
    }
  }
  return fields;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

async function listOptional(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
