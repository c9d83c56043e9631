import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ManifestValidator, type ManifestProblem } from '../api/validate.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ValidateOutcome {
  readonly files: number;
  readonly objects: number;
  readonly problems: (ManifestProblem & { readonly file: string })[];
}

/** A path given to `marina validate` that holds nothing to validate: one line, no stack trace. */
export class ValidateInputError extends Error {
  override readonly name = 'ValidateInputError';
}

/** Files named directly are always read; directories contribute their .yaml, .yml and .json files, recursively. */
async function manifestFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new ValidateInputError(`${path}: no such file or directory`);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => (e.isDirectory() ? manifestFiles(join(path, e.name)) : MANIFEST_EXTENSIONS.has(extname(e.name)) ? [join(path, e.name)] : [])),
  );
  return nested.flat();
}

export async function validateManifests(paths: readonly string[], validator = new ManifestValidator()): Promise<ValidateOutcome> {
  const perPath = await Promise.all(paths.map(async (path) => ({ path, files: await manifestFiles(path) })));
  const empty = perPath.find((p) => p.files.length === 0);
  if (empty) throw new ValidateInputError(`${empty.path}: no .yaml, .yml or .json file in this directory`);
  const files = perPath.flatMap((p) => p.files);
  let objects = 0;
  const problems: ValidateOutcome['problems'] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new ValidateInputError(`${file}: cannot be read (${err.code ?? err.message})`);
    });
    const report = validator.validateText(text);
    objects += report.documents.filter((d) => d.object).length;
    problems.push(...report.problems.map((p) => ({ file, ...p })));
  }
  return { files: files.length, objects, problems };
}

export function formatProblem(p: ValidateOutcome['problems'][number]): string {
  return `${p.file}:${p.document}: ${p.path || '(document)'}: ${p.message}`;
}

/**
 * `marina validate -f FILE|DIR ...`: prints one line per problem. Exit codes: 0 valid, 1 problems found,
 * 2 nothing could be validated (a path that does not exist, a directory without manifests).
 */
export async function runValidate(paths: readonly string[]): Promise<number> {
  let outcome: ValidateOutcome;
  try {
    outcome = await validateManifests(paths);
  } catch (err) {
    if (!(err instanceof ValidateInputError)) throw err;
    console.error(`marina validate: ${err.message}`);
    return 2;
  }
  for (const p of outcome.problems) console.log(formatProblem(p));
  const summary = `${outcome.objects} marina object(s) in ${outcome.files} file(s)`;
  if (outcome.problems.length > 0) {
    console.error(`${summary}: ${outcome.problems.length} problem(s)`);
    return 1;
  }
  console.error(`${summary}: valid`);
  return 0;
}
