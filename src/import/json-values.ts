/** Small helpers over parsed JSON shared by the mappings. */
import { isObject, type JsonObject } from './read-input';

/**
 * `value` without the fields that ask for nothing: nulls (the AWS CLI treats `"ulimits": null` as absent) and empty
 * lists (DescribeTaskDefinition prints every unused list as `[]`). Empty objects stay: `"host": {}` means a volume.
 *   e.g. `{ ulimits: null, mountPoints: [], host: {} }` → `{ host: {} }`.
 */
export function withoutEmptyFields<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutEmptyFields(item)) as T;
  if (!isObject(value)) return value;
  const kept: JsonObject = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === null || (Array.isArray(field) && field.length === 0)) continue;
    kept[key] = withoutEmptyFields(field);
  }
  return kept as T;
}

/** The objects of a list field, each with its index (items that are not objects are left to the schema). */
export function objectsOf(list: unknown): [number, JsonObject][] {
  return Array.isArray(list) ? [...list.entries()].filter((entry): entry is [number, JsonObject] => isObject(entry[1])) : [];
}

/** Placeholders of the templating tools ECS JSON is kept in: `{{ … }}` (Go templates, ecspresso), `${VAR}`, `$$$VAR$$$`. */
const templateExpression = /\{\{.*?\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\$\$[A-Za-z_][A-Za-z0-9_]*\$\$\$/;

/** Fields whose strings are shell or program text, where `${VAR}` is the program's own business. */
const programText = new Set(['command', 'entryPoint']);

/**
 * The paths of the strings of `value` that hold a template placeholder, which an import keeps as it is: the file was
 * meant to be rendered before use.
 *   e.g. `{ image: 'nginx:{{ env "TAG" }}' }` → [['image', 'nginx:{{ env "TAG" }}']].
 */
export function templatedStrings(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return templateExpression.test(value) ? [[path, value]] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => templatedStrings(item, `${path}[${index}]`));
  if (!isObject(value)) return [];
  return Object.entries(value)
    .filter(([key]) => !programText.has(key))
    .flatMap(([key, field]) => templatedStrings(field, path === '' ? key : `${path}.${key}`));
}
