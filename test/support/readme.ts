import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * The shell block (```sh) under a heading of README.md, as a reader copies it. Blocks marked
 * ```console are transcripts for the eye and are not run.
 */
export function readmeShellBlock(heading: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const section = readme.slice(start + 1).split(/\n## /)[0]!;
  const block = section.match(/```sh\n([\s\S]*?)```/);
  if (!block) throw new Error(`README.md section "${heading}" has no sh block`);
  return block[1]!;
}
