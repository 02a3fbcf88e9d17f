/**
 * What the API server checks of every object's metadata beyond its name, so the embedded store refuses
 * what it refuses: fields ObjectMeta does not declare (strict field validation), labels and annotations
 * that are not maps of strings, label keys and values that are not qualified names / label values
 * (k8s.io/apimachinery validation.IsQualifiedName, IsValidLabelValue), annotations over 256 KiB in all.
 * Messages are worded as the API server's, each naming the field.
 */
import { dnsSubdomain, maxLabelValueLength, maxObjectNameLength } from './object-names';

const objectMetaFields = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const maxAnnotationsBytes = 256 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  const name = parts[parts.length - 1];
  if (parts.length > 2) return 'a qualified name must consist of alphanumeric characters, with an optional DNS subdomain prefix and /';
  if (parts.length === 2 && (parts[0].length === 0 || parts[0].length > maxObjectNameLength || !dnsSubdomain.test(parts[0]))) {
    return 'prefix part must be a lowercase RFC 1123 subdomain';
  }
  if (name.length === 0 || name.length > maxLabelValueLength) return `name part must be non-empty and no more than ${maxLabelValueLength} characters`;
  if (!qualifiedNamePart.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value.length > maxLabelValueLength) return `must be no more than ${maxLabelValueLength} characters`;
  if (value !== '' && !qualifiedNamePart.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/**
 * Refusals of `metadata` (after its name, checked on create), one message per field. A null label or
 * annotation value is taken as "", as the API server's decoding into map[string]string takes it.
 */
export function validateObjectMeta(metadata: Record<string, unknown>): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(metadata)) if (!objectMetaFields.has(key)) errors.push(`unknown field "metadata.${key}"`);
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    const path = `metadata.${field}`;
    if (!isPlainObject(map)) {
      errors.push(`${path}: Invalid value: ${JSON.stringify(map)}: must be a map of strings`);
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      if (value === null) map[key] = '';
      else if (typeof value !== 'string') {
        errors.push(`${path}: Invalid value: ${JSON.stringify(value)}: the value of ${JSON.stringify(key)} must be a string`);
        continue;
      }
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) errors.push(`${path}: Invalid value: ${JSON.stringify(key)}: ${keyProblem}`);
      const valueProblem = field === 'labels' ? labelValueProblem(map[key] as string) : undefined;
      if (valueProblem) errors.push(`${path}: Invalid value: ${JSON.stringify(map[key])}: ${valueProblem}`);
    }
    if (field === 'annotations') {
      const bytes = Object.entries(map).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
      if (bytes > maxAnnotationsBytes) errors.push(`${path}: Too long: must have at most ${maxAnnotationsBytes} bytes`);
    }
  }
  return errors;
}
