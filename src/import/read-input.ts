/**
 * Reading the ECS JSON: parsing with the line and column of a syntax error (Node's JSON.parse often names
 * neither), and telling which of the accepted shapes the document is.
 */
import { ImportError } from './report';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The shapes `berth import` accepts, by what the document holds at its top. */
export type EcsInput =
  /** `aws ecs describe-task-definition`: `{"taskDefinition": {...}, "tags": [...]}`, paths under `taskDefinition`. */
  | { shape: 'describe-task-definition'; taskDefinition: JsonObject; tags: unknown; others: JsonObject }
  /** A task definition as RegisterTaskDefinition takes it, or a registered one exported flat (with its output-only fields). */
  | { shape: 'task-definition'; taskDefinition: JsonObject }
  /** `aws ecs describe-services`: `{"services": [...], "failures": [...]}`. */
  | { shape: 'describe-services'; services: unknown[]; failures: unknown; others: JsonObject };

const acceptedShapes =
  'expected the output of `aws ecs describe-task-definition` ({"taskDefinition": {...}}), a task definition ({"family": ..., "containerDefinitions": [...]}, ' +
  'as register-task-definition takes it or as exported from the console) or the output of `aws ecs describe-services` ({"services": [...]})';

/** Which shape `document` is; an ImportError naming the accepted shapes otherwise. */
export function detectShape(document: unknown, source: string): EcsInput {
  if (isObject(document) && isObject(document.taskDefinition)) {
    const { taskDefinition, tags, ...others } = document;
    return { shape: 'describe-task-definition', taskDefinition, tags, others };
  }
  if (isObject(document) && Array.isArray(document.services)) {
    const { services, failures, ...others } = document;
    return { shape: 'describe-services', services, failures, others };
  }
  if (isObject(document) && Array.isArray(document.containerDefinitions)) return { shape: 'task-definition', taskDefinition: document };
  const found = isObject(document) ? `an object with ${describeKeys(document)}` : Array.isArray(document) ? 'an array' : `a ${typeof document}`;
  throw new ImportError(`${source}: not an ECS task definition or service: found ${found}; ${acceptedShapes}`);
}

function describeKeys(object: JsonObject): string {
  const keys = Object.keys(object);
  if (keys.length === 0) return 'no fields';
  const shown = keys.slice(0, 5).map((k) => JSON.stringify(k));
  return `the fields ${shown.join(', ')}${keys.length > 5 ? ', ...' : ''}`;
}

/**
 * `text` parsed as JSON; on a syntax error an ImportError at `source:LINE:COLUMN`, with a hint when the file is a
 * template (a `$VAR` or `{{ }}` where a value belongs) rather than JSON.
 *   e.g. `"family": $NAME,` → `f.json:2:13: invalid JSON: expected a value, found "$" (this looks like a template: …)`.
 */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const { offset, expected } = syntaxErrorOf(text);
    const { line, column } = lineAndColumn(text, offset);
    const found = offset >= text.length ? 'the end of the input' : JSON.stringify(text[offset]);
    const rest = text.slice(offset);
    // The scan stops at a template's `$` or `<%`, or inside its `{{` (the first `{` opens an object).
    const templated = /^(\$\{?[A-Za-z_]|\{\{|<%)/.test(rest) || text.slice(offset - 1, offset + 1) === '{{';
    const hint = templated
      ? ' (this looks like a template, not JSON: render it first, e.g. with envsubst or the tool that owns it, and import the result)'
      : /^[}\]]/.test(rest) && /,\s*$/.test(text.slice(0, offset))
        ? ' (a trailing comma before it: JSON allows none)'
        : '';
    throw new ImportError(`${source}:${line}:${column}: invalid JSON: expected ${expected}, found ${found}${hint}`);
  }
}

/** 1-based line and column of `offset`, as editors count them (a tab is one column). */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

class SyntaxProblem extends Error {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {
    super(`expected ${expected} at ${offset}`);
  }
}

/**
 * Where the first syntax error of `text` is (called once JSON.parse has refused it), by a scan of JSON's
 * grammar (RFC 8259) that only checks, builds nothing.
 */
function syntaxErrorOf(text: string): SyntaxProblem {
  let i = 0;
  const fail = (expected: string): never => {
    throw new SyntaxProblem(i, expected);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const c = text[i];
      if (c === '"') return void i++;
      if (c < ' ') fail('no control character inside a string');
      if (c === '\\') {
        i++;
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i])) i++;
        else fail('an escape sequence');
      } else i++;
    }
  };
  const list = (close: string, item: () => void, what: string) => {
    i++; // the opening bracket
    space();
    if (text[i] === close) return void i++;
    for (;;) {
      space();
      item();
      space();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === close) return void i++;
      fail(`',' or '${close}' after ${what}`);
    }
  };
  const member = () => {
    if (text[i] !== '"') fail('a property name in double quotes');
    string();
    space();
    if (text[i] !== ':') fail("':' after a property name");
    i++;
    value();
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') return list('}', member, 'a property');
    if (c === '[') return list(']', value, 'an element');
    if (c === '"') return string();
    const literal = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null/y;
    literal.lastIndex = i;
    if (literal.test(text)) return void (i = literal.lastIndex);
    fail('a value');
  };
  try {
    value();
    space();
    if (i < text.length) fail('the end of the input');
  } catch (problem) {
    if (problem instanceof SyntaxProblem) return problem;
    throw problem;
  }
  // JSON.parse refused what this scan accepts (a lone surrogate is fine for both): name the whole input.
  return new SyntaxProblem(0, 'JSON');
}
