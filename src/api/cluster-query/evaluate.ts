import type { Operator, QueryNode, Subject } from './ast';

/** A container instance as a query sees it. */
export interface InstanceFacts {
  /** ec2InstanceId: in Berth, the ContainerInstance's name. */
  name: string;
  attributes: Readonly<Record<string, string>>;
  /** Tasks holding resources on the instance. */
  runningTasksCount: number;
  agentConnected: boolean;
  agentVersion?: string;
  registeredAt?: Date;
  /** Whether a task of `group` (e.g. `service:web`) is on the instance: what `task:group` reads. */
  hasTaskOfGroup(group: string): boolean;
  /** Every group with a task on the instance, for `task:group =~ ...` and `task:group exists`. */
  taskGroups(): Iterable<string>;
}

export type Predicate = (facts: InstanceFacts) => boolean;

/** Whether the query reads what placing a task changes (runningTasksCount, task:group). */
export function readsTasks(node: QueryNode): boolean {
  switch (node.kind) {
    case 'compare':
      return node.subject.kind === 'runningTasksCount' || node.subject.kind === 'taskGroup';
    case 'not':
      return readsTasks(node.operand);
    default:
      return readsTasks(node.left) || readsTasks(node.right);
  }
}

/**
 * Compiles the tree into one closure per node, with values converted and patterns built once, so an
 * evaluation does no parsing and no allocation.
 */
export function compile(node: QueryNode): Predicate {
  switch (node.kind) {
    case 'and': {
      const left = compile(node.left);
      const right = compile(node.right);
      return (facts) => left(facts) && right(facts);
    }
    case 'or': {
      const left = compile(node.left);
      const right = compile(node.right);
      return (facts) => left(facts) || right(facts);
    }
    case 'not': {
      const operand = compile(node.operand);
      return (facts) => !operand(facts);
    }
    case 'compare':
      return compileComparison(node.subject, node.operator, node.values);
  }
}

function compileComparison(subject: Subject, operator: Operator, values: readonly string[]): Predicate {
  switch (subject.kind) {
    case 'taskGroup':
      return compileTaskGroup(operator, values);
    case 'agentConnected': {
      const expected = values[0] === 'true';
      return operator === '==' ? (facts) => facts.agentConnected === expected : (facts) => facts.agentConnected !== expected;
    }
    case 'runningTasksCount': {
      const numbers = values.map(Number);
      const test = ordered(operator, numbers[0], numbers);
      return (facts) => test(facts.runningTasksCount);
    }
    case 'registeredAt': {
      const at = Date.parse(values[0]);
      const test = ordered(operator, at, [at]);
      // An instance with no registration time satisfies no comparison with one.
      return (facts) => facts.registeredAt !== undefined && test(facts.registeredAt.getTime());
    }
    case 'agentVersion': {
      const test = byVersion(operator, values[0]);
      return (facts) => facts.agentVersion !== undefined && test(facts.agentVersion);
    }
    case 'ec2InstanceId':
      return compileString(operator, values, (facts) => facts.name);
    case 'attribute': {
      const name = subject.name;
      return compileString(operator, values, (facts) => facts.attributes[name]);
    }
  }
}

/**
 * A string subject, which may be absent (an instance without the attribute): `exists` tells, `!=`,
 * `!in` and `!~` hold for it (it is not that value), every other comparison fails. `>`, `<`, ... order
 * numbers as numbers when both sides are numbers (attribute:cores > 8), else as strings.
 */
function compileString(operator: Operator, values: readonly string[], read: (facts: InstanceFacts) => string | undefined): Predicate {
  const [value] = values;
  switch (operator) {
    case 'exists':
      return (facts) => read(facts) !== undefined;
    case '!exists':
      return (facts) => read(facts) === undefined;
    case '==':
      return (facts) => read(facts) === value;
    case '!=':
      return (facts) => read(facts) !== value;
    case 'in': {
      const set = new Set(values);
      return (facts) => {
        const actual = read(facts);
        return actual !== undefined && set.has(actual);
      };
    }
    case '!in': {
      const set = new Set(values);
      return (facts) => {
        const actual = read(facts);
        return actual === undefined || !set.has(actual);
      };
    }
    case '=~': {
      const pattern = wholeValue(value);
      return (facts) => {
        const actual = read(facts);
        return actual !== undefined && pattern.test(actual);
      };
    }
    case '!~': {
      const pattern = wholeValue(value);
      return (facts) => {
        const actual = read(facts);
        return actual === undefined || !pattern.test(actual);
      };
    }
    default: {
      const test = ordering(operator);
      return (facts) => {
        const actual = read(facts);
        return actual !== undefined && test(compareValues(actual, value));
      };
    }
  }
}

/** `task:group`: the groups of the instance's tasks. `==` asks whether one of them is the value, `!=` whether none is. */
function compileTaskGroup(operator: Operator, values: readonly string[]): Predicate {
  const any = (facts: InstanceFacts, test: (group: string) => boolean) => {
    for (const group of facts.taskGroups()) if (test(group)) return true;
    return false;
  };
  switch (operator) {
    case '==':
      return (facts) => facts.hasTaskOfGroup(values[0]);
    case '!=':
      return (facts) => !facts.hasTaskOfGroup(values[0]);
    case 'in':
      return (facts) => values.some((group) => facts.hasTaskOfGroup(group));
    case '!in':
      return (facts) => !values.some((group) => facts.hasTaskOfGroup(group));
    case 'exists':
      return (facts) => any(facts, () => true);
    case '!exists':
      return (facts) => !any(facts, () => true);
    case '=~': {
      const pattern = wholeValue(values[0]);
      return (facts) => any(facts, (group) => pattern.test(group));
    }
    case '!~': {
      const pattern = wholeValue(values[0]);
      return (facts) => !any(facts, (group) => pattern.test(group));
    }
    default:
      return () => false;
  }
}

/** ECS's `=~` is a match of the whole value (Java's `matches`): `t2.*` matches t2.micro, not xt2.micro. */
function wholeValue(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function ordered(operator: Operator, value: number, values: readonly number[]): (actual: number) => boolean {
  if (operator === 'in') return (actual) => values.includes(actual);
  if (operator === '!in') return (actual) => !values.includes(actual);
  const test = ordering(operator);
  return (actual) => test(actual - value);
}

function ordering(operator: Operator): (difference: number) => boolean {
  switch (operator) {
    case '==':
      return (d) => d === 0;
    case '!=':
      return (d) => d !== 0;
    case '>':
      return (d) => d > 0;
    case '>=':
      return (d) => d >= 0;
    case '<':
      return (d) => d < 0;
    default:
      return (d) => d <= 0;
  }
}

/** Negative, zero or positive as `a` orders before, with or after `b`. */
function compareValues(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Versions compare segment by segment as numbers: 1.10.0 > 1.9.2. */
function byVersion(operator: Operator, version: string): (actual: string) => boolean {
  const expected = segments(version);
  const test = ordering(operator);
  return (actual) => {
    const got = segments(actual);
    for (let i = 0; i < Math.max(got.length, expected.length); i++) {
      const d = (got[i] ?? 0) - (expected[i] ?? 0);
      if (d !== 0) return test(d);
    }
    return test(0);
  };
}

function segments(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((part) => Number.parseInt(part, 10) || 0);
}
