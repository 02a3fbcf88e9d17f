/**
 * Equality- and set-based label selectors as `kubectl get -l` takes them:
 * `app=web`, `tier!=db`, `env in (a,b)`, `env notin (c)`, `canary`, `!canary`.
 */
export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

type Requirement = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(selector: string | undefined): LabelMatcher {
  if (!selector || selector.trim() === '') return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((matches) => matches(labels ?? {}));
}

/** Splits on commas that are not inside `( )`. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== '');
}

function parseRequirement(text: string): Requirement {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in' ? (labels) => key in labels && values.has(labels[key]) : (labels) => !(key in labels) || !values.has(labels[key]);
  }
  const inequality = /^([\w./-]+)\s*!=\s*([\w.-]*)$/.exec(text);
  if (inequality) {
    const [, key, value] = inequality as unknown as [string, string, string];
    return (labels) => labels[key] !== value;
  }
  const equality = /^([\w./-]+)\s*==?\s*([\w.-]*)$/.exec(text);
  if (equality) {
    const [, key, value] = equality as unknown as [string, string, string];
    return (labels) => labels[key] === value;
  }
  const absent = /^!([\w./-]+)$/.exec(text);
  if (absent) return (labels) => !(absent[1] in labels);
  if (/^[\w./-]+$/.test(text)) return (labels) => text in labels;
  throw new Error(`invalid label selector requirement "${text}"`);
}

/** A metav1.LabelSelector: matchLabels and matchExpressions, all of which must hold; empty matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function labelSelectorMatcher(selector: LabelSelector): LabelMatcher {
  return (labels = {}) =>
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
      }
    });
}

/**
 * A LabelSelector as the `labelSelector` query parameter takes it (and `kubectl get -l`), the form
 * parseLabelSelector reads back: { matchLabels: { app: web }, matchExpressions: [{ key: tier, operator: NotIn,
 * values: [db, cache] }, { key: canary, operator: DoesNotExist }] } → "app=web,tier notin (db,cache),!canary".
 */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const requirements = Object.entries(selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    requirements.push(
      operator === 'In'
        ? `${key} in (${values.join(',')})`
        : operator === 'NotIn'
          ? `${key} notin (${values.join(',')})`
          : operator === 'Exists'
            ? key
            : `!${key}`,
    );
  }
  return requirements.join(',');
}
