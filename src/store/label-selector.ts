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
