/**
 * Field errors worded like the kube-apiserver's (k8s.io/apimachinery field.Error), so that the
 * embedded store and the real API server refuse a manifest with the same text.
 */

export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number | string): string {
  return `${parent}[${index}]`;
}

/** How the API server renders a refused value: strings quoted, numbers and booleans bare, objects as JSON. */
function render(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** The JSON type name the API server prints for a value of the wrong type. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export const fieldError = {
  required: (path: string, detail?: string) => `${path}: Required value${detail ? `: ${detail}` : ''}`,
  forbidden: (path: string, detail: string) => `${path}: Forbidden: ${detail}`,
  invalid: (path: string, value: unknown, detail: string) => `${path}: Invalid value: ${render(value)}: ${detail}`,
  wrongType: (path: string, expected: string, value: unknown) =>
    `${path}: Invalid value: "${jsonTypeOf(value)}": ${path} in body must be of type ${expected}: "${jsonTypeOf(value)}"`,
  unsupported: (path: string, value: unknown, supported: readonly string[]) =>
    `${path}: Unsupported value: ${render(value)}: supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`,
  tooLong: (path: string, maxLength: number) => `${path}: Too long: may not be more than ${maxLength} bytes`,
  tooMany: (path: string, actual: number, max: number) => `${path}: Too many: ${actual}: must have at most ${max} items`,
  /** For a list-map item, `value` is its key, e.g. `{"name":"web"}`. */
  duplicate: (path: string, value: unknown) => `${path}: Duplicate value: ${render(value)}`,
  /** The API server's strict field validation (kubectl's default) words an undeclared field so. */
  unknownField: (path: string) => `unknown field "${path}"`,
};
