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

export const caSecretName = (bayName: string): string => `${bayName}-ca`;
export const operatorClientSecretName = (bayName: string): string => `${bayName}-operator`;
export const credentialsSecretName = (bayName: string): string => `${bayName}-credentials`;
export const nodeTlsSecretName = (node: string): string => `${node}-tls`;

export const FINALIZER = 'marina.dev/bay-cleanup';
/** An admin sets this on a deleting bay to release it although some hosts could not be reached. */
export const RELEASE_UNREACHABLE_ANNOTATION = 'marina.dev/release-unreachable-nodes';

/** `aggregate/host`: how a host is keyed across discovery, placement, the plan and status. */
export const hostKey = (aggregate: string, host: string): string => `${aggregate}/${host}`;
