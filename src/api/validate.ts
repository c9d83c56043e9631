import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { loadCrds, type CrdVersion, type JsonSchemaProps } from './crds.js';
import { celEnvironment } from './cel-net.js';

/** CEL with the apiserver's network functions (isCIDR, cidr), which the CRD rules use. */
const CEL = celEnvironment();

/**
 * Offline validation of Bay and HostAggregate manifests against the very schemas in crds/: the OpenAPI
 * schema (with defaults applied, as the apiserver does) and then the CEL rules that need no old object.
 * Transition rules (those reading oldSelf) can only be checked by the apiserver on update.
 */

export interface ManifestProblem {
  /** 1-based index of the YAML document within its file. */
  readonly document: number;
  /** Dotted field path, e.g. spec.managers; empty for the whole document. */
  readonly path: string;
  readonly message: string;
}

export interface DocumentResult {
  readonly document: number;
  /** `Kind namespace/name` when the document could be read as a marina object. */
  readonly object?: string;
  readonly skipped?: boolean;
}

export interface ManifestReport {
  readonly documents: DocumentResult[];
  readonly problems: ManifestProblem[];
}

interface CompiledKind {
  readonly crd: CrdVersion;
  readonly validate: ValidateFunction;
}

export class ManifestValidator {
  private readonly kinds = new Map<string, CompiledKind>();

  constructor(crds: CrdVersion[] = loadCrds()) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
    // Integer-ness is the type keyword's to report; the formats only bound the range.
    ajv.addFormat('int32', { type: 'number', validate: (n: number) => !Number.isInteger(n) || (n >= -(2 ** 31) && n < 2 ** 31) });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => !Number.isInteger(n) || Number.isSafeInteger(n) });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
    for (const crd of crds) {
      this.kinds.set(`${crd.group}/${crd.version}/${crd.kind}`, { crd, validate: ajv.compile(toAjvSchema(crd.schema, true)) });
    }
  }

  /** Validates every document of a YAML text; documents of other API groups are skipped, not judged. */
  validateText(text: string): ManifestReport {
    const documents: DocumentResult[] = [];
    const problems: ManifestProblem[] = [];
    const parsed = parseAllDocuments(text);
    const docs = Array.isArray(parsed) ? parsed : [parsed];
    docs.forEach((doc, i) => {
      const document = i + 1;
      if (doc.errors.length > 0) {
        for (const err of doc.errors) problems.push({ document, path: '', message: `not valid YAML: ${err.message.split('\n')[0]}` });
        documents.push({ document });
        return;
      }
      let value: unknown;
      try {
        value = doc.toJS();
      } catch (err) {
        // The yaml library refuses aliases that would expand without bound (a "billion laughs" file).
        problems.push({ document, path: '', message: `not a usable YAML document: ${err instanceof Error ? err.message : String(err)}` });
        documents.push({ document });
        return;
      }
      if (value === null || value === undefined) return;
      const result = this.validateObject(value);
      documents.push({ document, ...result.document });
      for (const p of result.problems) problems.push({ document, ...p });
    });
    return { documents, problems };
  }

  validateObject(value: unknown): { document: Omit<DocumentResult, 'document'>; problems: Omit<ManifestProblem, 'document'>[] } {
    if (!isRecord(value)) return { document: {}, problems: [{ path: '', message: 'a manifest must be a YAML mapping with apiVersion and kind' }] };
    const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : '';
    const kind = typeof value.kind === 'string' ? value.kind : '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    if (!apiVersion || !kind) return { document: {}, problems: [{ path: '', message: 'apiVersion and kind are required' }] };
    const known = [...this.kinds.values()].map((k) => k.crd);
    if (!known.some((crd) => crd.group === group)) return { document: { skipped: true }, problems: [] };
    const compiled = this.kinds.get(`${apiVersion}/${kind}`);
    if (!compiled) {
      const offered = known.map((crd) => `${crd.kind} (${crd.group}/${crd.version})`).join(', ');
      return { document: {}, problems: [{ path: '', message: `unknown kind ${kind} in ${apiVersion}; marina defines ${offered}` }] };
    }
    const object = structuredClone(value);
    const problems = [...metadataProblems(compiled.crd, object)];
    if (!compiled.validate(object)) problems.push(...(compiled.validate.errors ?? []).map((e) => describeAjvError(e, compiled.crd.schema)));
    else problems.push(...listMapProblems(compiled.crd.schema, object, ''), ...celProblems(compiled.crd.schema, object, ''));
    return { document: { object: describeObject(compiled.crd, object) }, problems };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeObject(crd: CrdVersion, object: Record<string, unknown>): string {
  const meta = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `${crd.kind} ${ns}${name}`;
}

function metadataProblems(crd: CrdVersion, object: Record<string, unknown>): Omit<ManifestProblem, 'document'>[] {
  const meta = object.metadata;
  if (!isRecord(meta)) return [{ path: 'metadata', message: 'is required, with at least a name' }];
  if (typeof meta.name !== 'string' && typeof meta.generateName !== 'string') return [{ path: 'metadata.name', message: 'is required' }];
  if (!crd.namespaced && meta.namespace !== undefined) return [{ path: 'metadata.namespace', message: `must not be set: ${crd.kind} is cluster-scoped` }];
  const size = annotationsSize(meta.annotations);
  if (size > ANNOTATIONS_LIMIT) {
    return [{ path: 'metadata.annotations', message: `are ${size} bytes in all; the apiserver refuses more than ${ANNOTATIONS_LIMIT} (256 KiB)` }];
  }
  return [];
}

/** The apiserver's limit on the total size of an object's annotations, keys and values together. */
const ANNOTATIONS_LIMIT = 256 * 1024;

function annotationsSize(annotations: unknown): number {
  if (!isRecord(annotations)) return 0;
  return Object.entries(annotations).reduce((total, [k, v]) => total + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
}

/**
 * Turns a structural CRD schema into a JSON schema ajv understands: the x-kubernetes-* keywords go
 * (CEL is evaluated separately), and objects with declared properties reject unknown fields, as
 * kubectl's strict field validation does.
 */
function toAjvSchema(s: JsonSchemaProps, root = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['type', 'enum', 'default', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'maxProperties', 'pattern', 'format', 'required'] as const) {
    if (s[key] !== undefined) out[key] = s[key];
  }
  if (s.properties) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toAjvSchema(v)]));
    if (!s['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  }
  if (typeof s.additionalProperties === 'object') out.additionalProperties = toAjvSchema(s.additionalProperties);
  if (s.items) out.items = toAjvSchema(s.items);
  if (root && isRecord(out.properties)) {
    // metadata is checked by hand: the CRD schema leaves ObjectMeta to the apiserver.
    out.properties = { ...out.properties, metadata: { type: 'object' } };
  }
  return out;
}

function dottedPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function schemaAt(root: JsonSchemaProps, path: string): JsonSchemaProps | undefined {
  let s: JsonSchemaProps | undefined = root;
  for (const seg of path.split(/\.|\[\d+\]/).filter(Boolean)) {
    s = s?.properties?.[seg] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    while (s?.type === 'array' && s.items) s = s.items;
  }
  return s;
}

function describeAjvError(e: ErrorObject, root: JsonSchemaProps): Omit<ManifestProblem, 'document'> {
  const path = dottedPath(e.instancePath);
  const join = (child: string): string => (path ? `${path}.${child}` : child);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: join(String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: join(String(p.additionalProperty)), message: 'unknown field' };
    case 'type':
      return { path, message: `must be ${article(String(p.type))}` };
    case 'enum':
      return { path, message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minimum':
      return { path, message: `must be at least ${String(p.limit)}` };
    case 'maximum':
      return { path, message: `must be at most ${String(p.limit)}` };
    case 'minLength':
      return { path, message: `must not be shorter than ${String(p.limit)} characters` };
    case 'maxLength':
      return { path, message: `must not be longer than ${String(p.limit)} characters` };
    case 'minItems':
      return { path, message: `must have at least ${String(p.limit)} items` };
    case 'maxItems':
      return { path, message: `must have at most ${String(p.limit)} items` };
    case 'maxProperties':
      return { path, message: `must have at most ${String(p.limit)} keys` };
    case 'pattern': {
      const hint = schemaAt(root, path)?.description;
      return { path, message: `has an invalid form${hint ? `: ${hint}` : ` (must match ${String(p.pattern)})`}` };
    }
    case 'format':
      return { path, message: `must be ${p.format === 'date-time' ? 'an RFC 3339 date-time' : `a valid ${String(p.format)}`}` };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** CEL sees integers as int: JSON numbers of integer fields become BigInt, as in the apiserver. */
function toCelValue(schema: JsonSchemaProps | undefined, value: unknown): unknown {
  if (schema?.type === 'integer' && typeof value === 'number') return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => toCelValue(schema?.items, v));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toCelValue(schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined), v)]),
    );
  }
  return value;
}

/** Lists of type map (x-kubernetes-list-map-keys) hold each key at most once, as the apiserver insists. */
function listMapProblems(schema: JsonSchemaProps, value: unknown, path: string): Omit<ManifestProblem, 'document'>[] {
  const problems: Omit<ManifestProblem, 'document'>[] = [];
  if (Array.isArray(value) && schema.items) {
    const keys = schema['x-kubernetes-list-type'] === 'map' ? (schema['x-kubernetes-list-map-keys'] ?? []) : [];
    const seen = new Set<string>();
    value.forEach((item, i) => {
      if (keys.length > 0 && isRecord(item)) {
        const id = JSON.stringify(keys.map((k) => item[k]));
        if (seen.has(id)) problems.push({ path: `${path}[${i}]`, message: `duplicate entry: ${keys.map((k) => `${k}=${String(item[k])}`).join(', ')} is listed more than once` });
        seen.add(id);
      }
      problems.push(...listMapProblems(schema.items!, item, `${path}[${i}]`));
    });
  } else if (isRecord(value) && schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) problems.push(...listMapProblems(sub, value[key], path ? `${path}.${key}` : key));
  }
  return problems;
}

function celProblems(schema: JsonSchemaProps, value: unknown, path: string): Omit<ManifestProblem, 'document'>[] {
  const problems: Omit<ManifestProblem, 'document'>[] = [];
  if (value === undefined) return problems;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    if (/\boldSelf\b/.test(rule.rule)) continue;
    let ok: unknown;
    try {
      ok = CEL.evaluate(rule.rule, { self: toCelValue(schema, value) });
    } catch (err) {
      problems.push({ path, message: `could not evaluate rule ${rule.rule}: ${(err as Error).message}` });
      continue;
    }
    if (ok !== true) problems.push({ path, message: rule.message ?? `failed rule: ${rule.rule}` });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...celProblems(schema.items!, item, `${path}[${i}]`)));
  } else if (isRecord(value) && schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      problems.push(...celProblems(sub, value[key], path ? `${path}.${key}` : key));
    }
  }
  return problems;
}
