import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManifestValidator } from '../../../src/api/validate.js';
import { exampleFiles, fixturesJudgedOffline } from '../../support/fixtures.js';

const validator = new ManifestValidator();
const render = (p: { path: string; message: string }): string => `${p.path || '(document)'}: ${p.message}`;

describe('marina validate (offline, against the CRD schemas and CEL rules)', () => {
  it.each(exampleFiles())('accepts the example %s', (file) => {
    const report = validator.validateText(readFileSync(file, 'utf8'));
    expect(report.problems.map(render)).toEqual([]);
    expect(report.documents.some((d) => d.object)).toBe(true);
  });

  const judged = fixturesJudgedOffline();

  it('has a corpus of at least 40 invalid manifests it can judge on their own', () => {
    expect(judged.length).toBeGreaterThanOrEqual(40);
  });

  it.each(judged.map((f) => [f.file, f] as const))('rejects %s', (_file, fixture) => {
    const problems = validator.validateText(fixture.text).problems.map(render);
    expect(problems.length, fixture.why).toBeGreaterThan(0);
    expect(problems.join('\n')).toContain(fixture.validateSays);
  });

  it('applies the schema defaults before the CEL rules, as the apiserver does', () => {
    // managers defaults to 1, so a one-node bay satisfies "managers <= nodes" without saying so.
    const report = validator.validateText('apiVersion: marina.dev/v1alpha1\nkind: Bay\nmetadata: {name: one, namespace: t}\nspec: {nodes: 1}\n');
    expect(report.problems).toEqual([]);
  });

  it('skips manifests of other API groups instead of judging them', () => {
    const report = validator.validateText('apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n');
    expect(report.problems).toEqual([]);
    expect(report.documents).toEqual([{ document: 1, skipped: true }]);
  });

  it('names the document of a multi-document file that is wrong', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: marina.dev/v1alpha1\nkind: Bay\nmetadata: {name: b, namespace: a}\nspec: {nodes: 0}\n';
    expect(validator.validateText(text).problems).toEqual([{ document: 2, path: 'spec.nodes', message: 'must be at least 1' }]);
  });

  it('refuses a kind marina does not define in its own group', () => {
    const report = validator.validateText('apiVersion: marina.dev/v1alpha1\nkind: Harbor\nmetadata: {name: h}\n');
    expect(report.problems[0]?.message).toMatch(/unknown kind Harbor .* marina defines Bay/);
  });

  it('refuses a namespace on a cluster-scoped HostAggregate', () => {
    const text = 'apiVersion: marina.dev/v1alpha1\nkind: HostAggregate\nmetadata: {name: h, namespace: x}\nspec: {hosts: [{name: a, endpoint: "unix:///s"}]}\n';
    expect(validator.validateText(text).problems.map(render)).toEqual(['metadata.namespace: must not be set: HostAggregate is cluster-scoped']);
  });
});
