import { createHash } from 'node:crypto';

/**
 * Deterministic names. A node's name is derived from its bay and index, so that a restarted operator
 * finds the instance it created instead of creating a twin; the namespace hash keeps two tenants'
 * bays of the same name apart on a shared host. Bay names are at most 40 characters (admission), so a
 * node name stays within a 63-character hostname.
 */
export function namespaceHash(namespace: string): string {
  return createHash('sha256').update(namespace).digest('hex').slice(0, 6);
}

export function nodeName(bayName: string, namespace: string, index: number): string {
  return `${bayName}-${namespaceHash(namespace)}-${index}`;
}

export const credentialsSecretName = (bayName: string): string => `${bayName}-credentials`;

/**
 * The bay's internal Secrets — its CA, marina's client certificate, each node's server key — live in
 * the operator's namespace, where a tenant who may read Secrets of its own namespace cannot mint
 * certificates its nodes would trust. Named by the bay's uid: two bays of one name in two namespaces
 * never meet, and a bay re-created under the same name starts afresh.
 */
export const internalSecretNames = (bayUid: string) => ({
  ca: `bay-${bayUid}-ca`,
  operatorClient: `bay-${bayUid}-operator`,
  node: (index: number): string => `bay-${bayUid}-node-${index}`,
});

/** Where earlier releases kept them, in the bay's namespace: moved on the first reconcile. */
export const legacySecretNames = (bayName: string) => ({
  ca: `${bayName}-ca`,
  operatorClient: `${bayName}-operator`,
  node: (node: string): string => `${node}-tls`,
});

export const FINALIZER = 'marina.dev/bay-cleanup';
/** An admin sets this on a deleting bay to release it although some hosts could not be reached. */
export const RELEASE_UNREACHABLE_ANNOTATION = 'marina.dev/release-unreachable-nodes';

/** `aggregate/host`: how a host is keyed across discovery, placement, the plan and status. */
export const hostKey = (aggregate: string, host: string): string => `${aggregate}/${host}`;
