/** Conditions in the shape of metav1.Condition, the convention every Kubernetes status follows. */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  /** CamelCase, e.g. 'Ready'. */
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase, machine-readable cause of the last transition. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339 with second precision; moves only when `status` changes. */
  readonly lastTransitionTime: string;
  /** The metadata.generation the condition was computed from. */
  readonly observedGeneration?: number;
}

/** A condition to set: its transition time is the setter's business. */
export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time: RFC 3339 in UTC with whole seconds. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * A copy of the list with `update` applied: a new condition is appended; an existing one of the same
 * type is replaced in place and keeps its lastTransitionTime unless its status flips, so setting the
 * same condition on every reconcile leaves the status unchanged and causes no write.
 */
export function setCondition(list: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): Condition[] {
  const current = list ?? [];
  const index = current.findIndex((c) => c.type === update.type);
  const existing = current[index];
  if (!existing) return [...current, { ...update, lastTransitionTime: formatTime(now) }];
  const lastTransitionTime = existing.status === update.status ? existing.lastTransitionTime : formatTime(now);
  return current.map((c, i) => (i === index ? { ...update, lastTransitionTime } : c));
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(list, type)?.status === 'True';
}
