/** ECS tags as Kubernetes labels: the schemas refuse `tags` with "use metadata.labels". */
import { dnsSubdomain } from '../store/object-names';
import { objectsOf } from './json-values';
import type { Report } from './report';

/** A label name or value: up to 63 of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit. */
const labelPart = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  return labelPart.test(name) && (prefix === undefined || (prefix.length <= 253 && dnsSubdomain.test(prefix)));
}

/**
 * `[{"key": "team", "value": "web"}]` → `{ team: 'web' }`. A tag that is not a valid label is reported and left
 * out, e.g. `aws:cloudformation:stack-name` (a `:` in the key) or a value with spaces.
 */
export function labelsOf(tags: unknown, report: Report): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [index, tag] of objectsOf(tags)) {
    const { key, value = '' } = tag;
    if (typeof key === 'string' && typeof value === 'string' && isLabelKey(key) && (value === '' || labelPart.test(value))) labels[key] = value;
    else report.add(`[${index}]`, `not imported: ${JSON.stringify(key)}=${JSON.stringify(value)} is not a valid Kubernetes label`);
  }
  return labels;
}
