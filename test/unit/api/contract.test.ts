import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCrds, type JsonSchemaProps } from '../../../src/api/crds.js';
import { generateApiTypes, generatedTypesPath } from '../../../tools/gen-api-types.js';

function undocumentedFields(schema: JsonSchemaProps, path: string): string[] {
  const missing: string[] = [];
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    const here = `${path}.${name}`;
    // ObjectMeta is documented by Kubernetes itself.
    if (here.endsWith('.metadata') && path.split('.').length === 1) continue;
    if (!sub.description?.trim()) missing.push(here);
    missing.push(...undocumentedFields(sub, here));
  }
  if (schema.items) missing.push(...undocumentedFields(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') missing.push(...undocumentedFields(schema.additionalProperties, `${path}{}`));
  return missing;
}

describe('the API contract in crds/', () => {
  const crds = loadCrds();

  it('defines Bay (namespaced) and HostAggregate (cluster-scoped) in marina.dev/v1alpha1', () => {
    expect(crds.map((c) => [c.kind, `${c.group}/${c.version}`, c.namespaced])).toEqual([
      ['Bay', 'marina.dev/v1alpha1', true],
      ['HostAggregate', 'marina.dev/v1alpha1', false],
    ]);
  });

  it('documents every field, so that kubectl explain teaches', () => {
    for (const crd of crds) expect(undocumentedFields(crd.schema, crd.kind), crd.kind).toEqual([]);
  });

  it('gives a bay Carina’s node size, one manager and an 80% autoscale threshold by default', () => {
    const spec = crds.find((c) => c.kind === 'Bay')!.schema.properties!.spec!.properties!;
    expect(spec.flavor!.properties!.cpu!.default).toBe(2);
    expect(spec.flavor!.properties!.memory!.default).toBe('4Gi');
    expect(spec.flavor!.properties!.disk!.default).toBe('20Gi');
    expect(spec.managers!.default).toBe(1);
    expect(spec.autoscale!.properties!.thresholdPercent!.default).toBe(80);
  });

  it('is the single source of the TypeScript types (src/api/types.generated.ts is up to date)', () => {
    // When this fails, run `npm run gen:api` and commit the result.
    expect(readFileSync(generatedTypesPath, 'utf8')).toBe(generateApiTypes(crds));
  });
});
