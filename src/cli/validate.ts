import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ManifestValidator, type ManifestProblem } from '../api/validate.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ValidateOutcome {
  readonly files: number;
  readonly objects: number;
  readonly problems: (ManifestProblem & { readonly file: string })[];
}

/** Files named directly are always read; directories contribute their .yaml, .yml and .json files, recursively. */
async function manifestFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => (e.isDirectory() ? manifestFiles(join(path, e.name)) : MANIFEST_EXTENSIONS.has(extname(e.name)) ? [join(path, e.name)] : [])),
  );
  return nested.flat();
}

export async function validateManifests(paths: readonly string[], validator = new ManifestValidator()): Promise<ValidateOutcome> {
  const files = (await Promise.all(paths.map(manifestFiles))).flat();
  let objects = 0;
  const problems: ValidateOutcome['problems'] = [];
  for (const file of files) {
    const report = validator.validateText(await readFile(file, 'utf8'));
    objects += report.documents.filter((d) => d.object).length;
    problems.push(...report.problems.map((p) => ({ file, ...p })));
  }
  return { files: files.length, objects, problems };
}

export function formatProblem(p: ValidateOutcome['problems'][number]): string {
  return `${p.file}:${p.document}: ${p.path || '(document)'}: ${p.message}`;
}

/** `marina validate -f FILE|DIR ...`: prints one line per problem and exits non-zero when there is any. */
export async function runValidate(paths: readonly string[]): Promise<number> {
  const outcome = await validateManifests(paths);
  for (const p of outcome.problems) console.log(formatProblem(p));
  const summary = `${outcome.objects} marina object(s) in ${outcome.files} file(s)`;
  if (outcome.problems.length > 0) {
    console.error(`${summary}: ${outcome.problems.length} problem(s)`);
    return 1;
  }
  console.error(`${summary}: valid`);
  return 0;
}
