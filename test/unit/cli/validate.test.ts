import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';

let dir: string;
let lines: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'marina-validate-'));
});

/** Runs `marina validate` on the paths and returns its exit code; what it printed goes to `lines`. */
async function validate(...paths: string[]): Promise<number> {
  lines = [];
  const keep = (...args: unknown[]): void => void lines.push(args.join(' '));
  vi.spyOn(console, 'log').mockImplementation(keep);
  vi.spyOn(console, 'error').mockImplementation(keep);
  return runValidate(paths);
}

afterEach(() => vi.restoreAllMocks());

const bayWith = (annotations: Record<string, string>): string => `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: web, namespace: team-a, annotations: ${JSON.stringify(annotations)}}
spec: {nodes: 1}
`;

describe('marina validate never prints a stack trace', () => {
  it('a YAML alias bomb is one clear problem, not a hang or a crash', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) levels.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(9).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    await writeFile(join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
    expect(await validate(join(dir, 'bomb.yaml'))).toBe(1);
    expect(lines.join('\n')).toMatch(/bomb\.yaml:1: \(document\): not a usable YAML document: .*alias/i);
  });

  it('a file that is not YAML at all is one problem', async () => {
    await writeFile(join(dir, 'binary.yaml'), Buffer.from([0, 159, 146, 150, 255, 1, 2, 3]));
    expect(await validate(join(dir, 'binary.yaml'))).toBe(1);
    expect(lines[0]).toContain('binary.yaml:1');
  });

  it('a directory without manifests and a path that does not exist each get one line and exit code 2', async () => {
    await mkdir(join(dir, 'empty'));
    expect(await validate(join(dir, 'empty'))).toBe(2);
    expect(lines).toEqual([`marina validate: ${join(dir, 'empty')}: no .yaml, .yml or .json file in this directory`]);
    expect(await validate(join(dir, 'missing'))).toBe(2);
    expect(lines).toEqual([`marina validate: ${join(dir, 'missing')}: no such file or directory`]);
  });

  it('annotations the apiserver would refuse (over 256 KiB in all) are a problem', async () => {
    await writeFile(join(dir, 'big.yaml'), bayWith({ 'example.com/blob': 'x'.repeat(256 * 1024) }));
    expect(await validate(join(dir, 'big.yaml'))).toBe(1);
    expect(lines.join('\n')).toContain('metadata.annotations: are 262160 bytes in all; the apiserver refuses more than 262144 (256 KiB)');
    await writeFile(join(dir, 'small.yaml'), bayWith({ 'marina.dev/rotate-certificates': '1' }));
    expect(await validate(join(dir, 'small.yaml'))).toBe(0);
  });
});
