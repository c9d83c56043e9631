import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * The CustomResourceDefinitions in crds/ are the contract: the apiserver enforces them, `marina validate`
 * checks manifests against them offline, and src/api/types.generated.ts is generated from them.
 */

/** The subset of an OpenAPI v3 structural schema that marina's CRDs use. */
export interface JsonSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JsonSchemaProps>;
  additionalProperties?: JsonSchemaProps | boolean;
  items?: JsonSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  pattern?: string;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
}

export interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly schema: JsonSchemaProps;
}

/** crds/ of the installed package: dist/api/ and src/api/ both sit two levels below it. */
export const defaultCrdDir = fileURLToPath(new URL('../../crds', import.meta.url));

interface CrdDocument {
  kind?: string;
  spec?: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string };
    versions: { name: string; schema?: { openAPIV3Schema?: JsonSchemaProps } }[];
  };
}

export function loadCrds(dir: string = defaultCrdDir): CrdVersion[] {
  const versions: CrdVersion[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const crd = doc.toJS() as CrdDocument | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        const schema = v.schema?.openAPIV3Schema;
        if (!schema) throw new Error(`${file}: version ${v.name} has no openAPIV3Schema`);
        versions.push({
          group: crd.spec.group,
          version: v.name,
          kind: crd.spec.names.kind,
          plural: crd.spec.names.plural,
          namespaced: crd.spec.scope === 'Namespaced',
          schema,
        });
      }
    }
  }
  return versions;
}
