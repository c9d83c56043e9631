import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const invalidFixtureDir = join(repoRoot, 'test', 'fixtures', 'invalid');
export const examplesDir = join(repoRoot, 'examples');

/**
 * An invalid manifest and what must be said about it. The header comments of each fixture carry the
 * expectations:
 *   # <why the manifest is wrong, in a user's words>
 *   # apiserver: <text the real apiserver (through kubectl) must answer with>
 *   # validate: <text `marina validate` must print>, or "needs the existing object"
 * A fixture with two documents is a change: the first is the existing object, the second the update.
 */
export interface InvalidFixture {
  readonly file: string;
  readonly path: string;
  readonly why: string;
  readonly apiserverSays: string;
  /** Undefined when only the apiserver can judge (the rule compares with the existing object). */
  readonly validateSays: string | undefined;
  readonly text: string;
  /** For a change: the existing object, then the update. */
  readonly change?: { readonly existing: string; readonly update: string };
}

function directive(text: string, name: string, file: string): string {
  const match = text.match(new RegExp(`^# ${name}: (.*)$`, 'm'));
  if (!match?.[1]) throw new Error(`${file}: missing "# ${name}:" header`);
  return match[1];
}

export function invalidFixtures(): InvalidFixture[] {
  return readdirSync(invalidFixtureDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const path = join(invalidFixtureDir, file);
      const text = readFileSync(path, 'utf8');
      const validate = directive(text, 'validate', file);
      const documents = text.split(/^---$/m);
      return {
        file,
        path,
        text,
        why: text.split('\n')[0]!.replace(/^# /, ''),
        apiserverSays: directive(text, 'apiserver', file),
        validateSays: validate === 'needs the existing object' ? undefined : validate,
        ...(documents.length === 2 ? { change: { existing: documents[0]!, update: documents[1]! } } : {}),
      };
    });
}

export function exampleFiles(): string[] {
  return readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(examplesDir, f));
}

/** The invalid fixtures that `marina validate` can judge on their own (no existing object needed). */
export function fixturesJudgedOffline(): (InvalidFixture & { readonly validateSays: string })[] {
  return invalidFixtures().filter((f): f is InvalidFixture & { validateSays: string } => f.validateSays !== undefined);
}
