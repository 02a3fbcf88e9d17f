/**
 * Fitting mapped ECS fields to Berth's schema with the embedded store's own validator, so that what is not
 * imported is reported with the schema's reason, word for word, and nothing the schema accepts is second-guessed.
 *
 * Each pass validates the manifest (defaults applied, as the API server does) and acts on what the validator says:
 *   - a field Berth declares as rejected (`reject(…, hint)` in src/api/v1alpha1), e.g.
 *     `spec.containerDefinitions[1].linuxParameters: Forbidden: linuxParameters is not supported: Berth does not support …`,
 *     is removed and reported as `containerDefinitions[1].linuxParameters: not imported: Berth does not support …`,
 *     unless it is one the caller keeps as a refusal (a GPU the task cannot run without);
 *   - a field the schema does not know (`unknown field "spec.containerDefinitions[0].inferenceDevices"`) is removed and reported;
 *   - a number or boolean written as a string (`"256"`, `"true"`, which ECS's console and CloudFormation accept) becomes
 *     the number or boolean, and is reported;
 *   - anything else is a refusal: the returned problems, at the fields' paths in the ECS input.
 * A pass that changed something runs again: the validator reports rules over a list only once its items are well typed.
 */
import type { ObjectValidator } from '../api';
import type { Report } from './report';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Whether a rejected field must refuse the import instead of being left out: its name and where it is. */
export type KeepsRefusal = (field: string, path: string) => boolean;

/** The problems left once every fixable one is fixed; empty when the manifest is valid. */
export function fitToSchema(manifest: Manifest, validator: ObjectValidator, report: Report, keepsRefusal: KeepsRefusal): string[] {
  for (;;) {
    const errors = validator.validate(validator.applyDefaults(manifest));
    const problems: string[] = [];
    let changed = false;
    for (const error of errors) {
      const fixed = fix(manifest, error, report, keepsRefusal);
      if (fixed) changed = true;
      else problems.push(inInput(error));
    }
    if (!changed) return problems;
  }
}

const rejected = /^(\S+): Forbidden: (\w+) is not supported: (.*)$/;
const unknownField = /^unknown field "(.+)"$/;
const wrongType = /^(\S+): Invalid value: "string": \S+ in body must be of type (integer|number|boolean): "string"$/;

function fix(manifest: Manifest, error: string, report: Report, keepsRefusal: KeepsRefusal): boolean {
  const rejection = rejected.exec(error);
  if (rejection) {
    const [, path, field, hint] = rejection;
    if (lastSegment(path) !== field || keepsRefusal(field, inputPath(path)) || !remove(manifest, path)) return false;
    report.add(inputPath(path), `not imported: ${hint}`);
    return true;
  }
  const unknown = unknownField.exec(error);
  if (unknown) {
    if (!remove(manifest, unknown[1])) return false;
    report.add(inputPath(unknown[1]), 'not imported: Berth has no such field');
    return true;
  }
  const typed = wrongType.exec(error);
  if (typed) {
    const [, path, type] = typed;
    const value = valueAt(manifest, path);
    const converted = typeof value === 'string' ? fromString(value, type) : undefined;
    if (converted === undefined) return false;
    set(manifest, path, converted);
    report.add(inputPath(path), `the string ${JSON.stringify(value)} read as ${type === 'boolean' ? 'the boolean' : 'the number'} ${String(converted)}`);
    return true;
  }
  return false;
}

function fromString(value: string, type: string): number | boolean | undefined {
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : undefined;
  const pattern = type === 'integer' ? /^\s*-?\d+\s*$/ : /^\s*-?\d+(\.\d+)?\s*$/;
  return pattern.test(value) ? Number(value) : undefined;
}

/** `spec.containerDefinitions[0].memory` → `containerDefinitions[0].memory`: paths as the ECS input has them. */
function inputPath(path: string): string {
  return path === 'spec' ? '' : path.replace(/^spec\./, '');
}

/** A validator message with its path as the ECS input has it. */
function inInput(error: string): string {
  return error.replace(/^spec\./, '').replace(/^unknown field "spec\./, 'unknown field "');
}

type Segment = string | number;

/** `spec.volumes[0].host` → ['spec', 'volumes', 0, 'host']. */
function segments(path: string): Segment[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] === undefined ? m[1] : Number(m[2])));
}

function lastSegment(path: string): Segment | undefined {
  return segments(path).at(-1);
}

function parentOf(root: unknown, path: string): { parent: Record<string | number, unknown>; key: Segment } | undefined {
  const all = segments(path);
  let node: unknown = root;
  for (const segment of all.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  if (typeof node !== 'object' || node === null || all.length === 0) return undefined;
  return { parent: node as Record<string | number, unknown>, key: all.at(-1)! };
}

function valueAt(root: unknown, path: string): unknown {
  const at = parentOf(root, path);
  return at?.parent[at.key];
}

function set(root: unknown, path: string, value: unknown): void {
  const at = parentOf(root, path);
  if (at) at.parent[at.key] = value;
}

/** Whether there was a field at `path` to remove: a pass that removed nothing must not count as a change. */
function remove(root: unknown, path: string): boolean {
  const at = parentOf(root, path);
  if (at === undefined || !(at.key in at.parent)) return false;
  delete at.parent[at.key];
  return true;
}
