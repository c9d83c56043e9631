import type { NodeOwnership, NodeRole, OwnershipSelector } from './types.js';

/**
 * Ownership is stored on the host as `user.marina.*` configuration keys of the instance (LXD and
 * Incus keep `user.*` keys verbatim and never interpret them). Reading them back is how a restarted
 * operator finds its nodes: the host is the record, not the operator's memory.
 */
export const OWNERSHIP_KEYS = {
  bayUid: 'user.marina.bay.uid',
  namespace: 'user.marina.bay.namespace',
  bayName: 'user.marina.bay.name',
  index: 'user.marina.node.index',
  role: 'user.marina.node.role',
} as const satisfies Record<keyof NodeOwnership, string>;

/**
 * Set to "false" when a bay is deleted with deletionPolicy Retain: the node keeps running and keeps its
 * ownership keys for the record, but marina no longer lists, adopts or deletes it.
 */
export const MANAGED_KEY = 'user.marina.managed';

export function isReleased(config: Readonly<Record<string, string | undefined>>): boolean {
  return config[MANAGED_KEY] === 'false';
}

export function ownershipToConfig(ownership: NodeOwnership): Record<string, string> {
  return {
    [OWNERSHIP_KEYS.bayUid]: ownership.bayUid,
    [OWNERSHIP_KEYS.namespace]: ownership.namespace,
    [OWNERSHIP_KEYS.bayName]: ownership.bayName,
    [OWNERSHIP_KEYS.index]: String(ownership.index),
    [OWNERSHIP_KEYS.role]: ownership.role,
  };
}

/** undefined unless every key is present and well-formed: a half-labelled instance is not marina's. */
export function ownershipFromConfig(config: Readonly<Record<string, string | undefined>>): NodeOwnership | undefined {
  const bayUid = config[OWNERSHIP_KEYS.bayUid];
  const namespace = config[OWNERSHIP_KEYS.namespace];
  const bayName = config[OWNERSHIP_KEYS.bayName];
  const index = parseIndex(config[OWNERSHIP_KEYS.index]);
  const role = parseRole(config[OWNERSHIP_KEYS.role]);
  if (!bayUid || !namespace || !bayName || index === undefined || role === undefined) return undefined;
  return { bayUid, namespace, bayName, index, role };
}

function parseIndex(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function parseRole(value: string | undefined): NodeRole | undefined {
  return value === 'manager' || value === 'worker' ? value : undefined;
}

export function matchesSelector(ownership: NodeOwnership | undefined, selector: OwnershipSelector): boolean {
  if (ownership === undefined) return false;
  return (Object.keys(selector) as (keyof NodeOwnership)[]).every(
    (key) => selector[key] === undefined || selector[key] === ownership[key],
  );
}

/** Same bay: the uid decides; namespace and name are checked too so a mislabelled copy is not adopted. */
export function sameBay(a: NodeOwnership, b: NodeOwnership): boolean {
  return a.bayUid === b.bayUid && a.namespace === b.namespace && a.bayName === b.bayName;
}
