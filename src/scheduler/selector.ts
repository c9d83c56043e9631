import type { LabelSelector, LabelSelectorRequirement } from '../api/types.generated.js';

/** Kubernetes label-selector semantics: every matchLabels pair and every expression must hold. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  const pairs = Object.entries(selector.matchLabels ?? {});
  return pairs.every(([k, v]) => labels[k] === v) && (selector.matchExpressions ?? []).every((e) => requirementHolds(e, labels));
}

function requirementHolds(req: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(labels[req.key]!);
    case 'NotIn':
      return !has || !values.includes(labels[req.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}
