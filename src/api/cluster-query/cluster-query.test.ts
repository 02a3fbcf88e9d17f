import fc from 'fast-check';
import { services, validatorFor } from '..';
import type { Operator, QueryNode, Subject } from './ast';
import { compileClusterQuery, formatClusterQuery, parseClusterQuery, type InstanceFacts } from './index';

function facts(fields: Partial<Omit<InstanceFacts, 'hasTaskOfGroup' | 'taskGroups'>> & { groups?: string[] } = {}): InstanceFacts {
  const groups = fields.groups ?? [];
  return {
    name: fields.name ?? 'i-1',
    attributes: fields.attributes ?? {},
    runningTasksCount: fields.runningTasksCount ?? groups.length,
    agentConnected: fields.agentConnected ?? true,
    ...(fields.agentVersion ? { agentVersion: fields.agentVersion } : {}),
    ...(fields.registeredAt ? { registeredAt: fields.registeredAt } : {}),
    hasTaskOfGroup: (group) => groups.includes(group),
    taskGroups: () => groups,
  };
}

function matches(expression: string, instance: InstanceFacts): boolean {
  const compiled = compileClusterQuery(expression);
  if (!compiled.ok) throw new Error(compiled.error.message);
  return compiled.query.matches(instance);
}

const t2small = facts({
  name: 'i-7',
  attributes: { 'ecs.instance-type': 't2.small', 'ecs.availability-zone': 'us-east-1a', 'ecs.os-type': 'linux', cores: '8' },
});
const m5 = facts({ attributes: { 'ecs.instance-type': 'm5.large', 'ecs.availability-zone': 'us-east-1c', 'ecs.cpu-architecture': 'arm64' } });

describe('the cluster query language', () => {
  test.each([
    ['attribute:ecs.instance-type == t2.small', true, false],
    ['attribute:ecs.instance-type equals t2.small', true, false],
    ['attribute:ecs.instance-type != t2.small', false, true],
    ['attribute:ecs.instance-type not_equals t2.small', false, true],
    ['attribute:ecs.instance-type =~ t2.*', true, false],
    ['attribute:ecs.instance-type matches t2.*', true, false],
    ['attribute:ecs.instance-type =~ 2.*', false, false],
    ['attribute:ecs.instance-type !~ t2.*', false, true],
    ['attribute:ecs.instance-type not_matches t2.*', false, true],
    ['attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', true, false],
    ['attribute:ecs.availability-zone not in [us-east-1a, us-east-1b]', false, true],
    ['attribute:ecs.availability-zone !in [us-east-1a, us-east-1b]', false, true],
    ['attribute:ecs.availability-zone not_in [us-east-1a]', false, true],
    ['attribute:ecs.os-type exists', true, false],
    ['attribute:ecs.os-type !exists', false, true],
    ['attribute:ecs.os-type not_exists', false, true],
    ['attribute:cores > 4', true, false],
    ['attribute:cores greater_than 10', false, false],
    ['attribute:cores >= 8', true, false],
    ['attribute:cores greater_than_equal 9', false, false],
    ['attribute:cores < 10', true, false],
    ['attribute:cores less_than 8', false, false],
    ['attribute:cores <= 8', true, false],
    ['attribute:cores less_than_equal 7', false, false],
    ['attribute:ecs.cpu-architecture == arm64', false, true],
    ['ec2InstanceId == i-7', true, false],
    ["ec2InstanceId in ['i-7', 'i-9']", true, false],
    ["ec2InstanceId =~ 'i-[0-9]'", true, true],
    ['attribute:ecs.os-type not exists', false, true],
    ['attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a', true, false],
    ['attribute:ecs.instance-type =~ t2.* && attribute:ecs.availability-zone == us-east-1c', false, false],
    ['attribute:ecs.instance-type == m5.large or attribute:ecs.availability-zone == us-east-1a', true, true],
    ['attribute:ecs.instance-type == x || attribute:ecs.availability-zone == us-east-1c', false, true],
    ['not(attribute:ecs.instance-type == t2.small)', false, true],
    ['!(attribute:ecs.instance-type == t2.small)', false, true],
    ['not (attribute:ecs.os-type exists) or attribute:cores > 4', true, true],
  ])('%s', (expression, onT2, onM5) => {
    expect([matches(expression, t2small), matches(expression, m5)]).toEqual([onT2, onM5]);
  });

  test('and binds tighter than or; parentheses and not() group', () => {
    const yes = 'attribute:ecs.os-type exists';
    const no = 'attribute:ecs.os-type !exists';
    expect(matches(`${yes} or ${no} and ${no}`, t2small)).toBe(true);
    expect(matches(`(${yes} or ${no}) and ${no}`, t2small)).toBe(false);
    expect(matches(`not(${yes} and ${no}) and ${yes}`, t2small)).toBe(true);
  });

  test('task:group and runningTasksCount read the tasks on the instance', () => {
    const busy = facts({ groups: ['service:web', 'service:db'] });
    const idle = facts();
    const cases: [string, boolean, boolean][] = [
      ['task:group == service:web', true, false],
      ['task:group != service:web', false, true],
      ['task:group in [service:api, service:db]', true, false],
      ['task:group !in [service:api, service:db]', false, true],
      ['task:group =~ service:w.*', true, false],
      ['task:group !~ service:w.*', false, true],
      ['task:group exists', true, false],
      ['task:group !exists', false, true],
      ['runningTasksCount == 0', false, true],
      ['runningTasksCount > 1', true, false],
      ['runningTasksCount in [2, 3]', true, false],
      ['runningTasksCount !in [0]', true, false],
    ];
    for (const [expression, onBusy, onIdle] of cases)
      expect({ expression, results: [matches(expression, busy), matches(expression, idle)] }).toEqual({ expression, results: [onBusy, onIdle] });
    for (const [expression] of cases) {
      const compiled = compileClusterQuery(expression);
      expect(compiled.ok && compiled.query.readsTasks).toBe(true);
    }
    const attributeOnly = compileClusterQuery('attribute:a == b or not(ec2InstanceId == i-1)');
    expect(attributeOnly.ok && attributeOnly.query.readsTasks).toBe(false);
  });

  test('agentConnected, agentVersion and registeredAt', () => {
    const old = facts({ agentConnected: false, agentVersion: '1.9.2', registeredAt: new Date('2023-06-01T00:00:00Z') });
    const recent = facts({ agentVersion: '1.10.0', registeredAt: new Date('2025-01-02T00:00:00Z') });
    expect([matches('agentConnected == false', old), matches('agentConnected == false', recent)]).toEqual([true, false]);
    expect([matches('agentConnected != true', old), matches('agentConnected != true', recent)]).toEqual([true, false]);
    expect([matches('agentVersion >= 1.10.0', old), matches('agentVersion >= 1.10.0', recent)]).toEqual([false, true]);
    expect([matches('registeredAt < 2024-01-01', old), matches('registeredAt < 2024-01-01', recent)]).toEqual([true, false]);
    expect(matches('registeredAt > 2024-01-01T00:00:00Z', facts())).toBe(false);
  });

  test('an instance without the attribute is not that value: !=, not in and !~ hold, the rest fail', () => {
    const bare = facts();
    expect(['== a', '!= a', 'in [a]', 'not in [a]', '=~ a.*', '!~ a.*', '> 1', '< 1'].map((op) => matches(`attribute:x ${op}`, bare))).toEqual([
      false,
      true,
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
  });

  test.each([
    ['attribute:ecs.instance-type =~', "expected a value after '=~', found the end of the expression at column 31"],
    [
      'attribute:ecs.instance-type',
      'expected an operator (==, !=, >, >=, <, <=, =~, !~, in, not in, exists, !exists), found the end of the expression at column 28',
    ],
    ['attribute: == a', "expected an attribute name after 'attribute:' at column 11"],
    [
      'instanceType == t2',
      "unknown subject 'instanceType' (expected attribute:NAME, agentConnected, agentVersion, ec2InstanceId, registeredAt, runningTasksCount, task:group) at column 1",
    ],
    ['attribute:a in [x, y', "expected ']' to close the list, found the end of the expression at column 21"],
    ['attribute:a in x', "expected '[' after 'in' (a list such as [a, b]), found 'x' at column 16"],
    ['(attribute:a == x', "expected ')' to close the '(' opened, found the end of the expression at column 18"],
    ['attribute:a == x attribute:b == y', "expected 'and', 'or' or the end of the expression, found 'attribute:b' at column 18"],
    ['attribute:a == x & attribute:b == y', "'&' alone is not an operator (use &&) at column 18"],
    ["attribute:a == 'x", 'unterminated single-quoted value at column 16'],
    ["attribute:a =~ 't2.('", "'t2.(' is not a valid regular expression at column 16"],
    ['runningTasksCount > many', "runningTasksCount is compared with a whole number, not 'many' at column 21"],
    ['agentConnected =~ tr.*', "agentConnected does not take '=~' (it takes ==, !=) at column 16"],
    ['agentConnected == yes', "agentConnected is true or false, not 'yes' at column 19"],
    ['registeredAt < yesterday', "registeredAt is compared with a date such as 2024-01-31 or 2024-01-31T12:00:00Z, not 'yesterday' at column 16"],
    ['task:group > service:a', "task:group does not take '>' (it takes ==, !=, exists, !exists, in, !in, =~, !~) at column 12"],
    ['attribute:a == and', "expected a value after '==', found 'and' at column 16"],
    ['attribute:a not equal b', "expected 'exists' or 'in' after 'not', found 'equal' at column 17"],
  ])('refuses %j', (expression, message) => {
    const parsed = parseClusterQuery(expression);
    expect(parsed).toEqual({ ok: false, error: { message, position: Number(/column (\d+)$/.exec(message)![1]) } });
  });

  test('a Service whose memberOf expression does not parse is refused with the field and the column', () => {
    const service = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'ns' },
      spec: { cluster: 'demo', taskDefinition: 'web', placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~' }] },
    };
    const validator = validatorFor(services)!;
    expect(validator.validate(validator.applyDefaults(service))).toEqual([
      'spec.placementConstraints[0].expression: Invalid value: "attribute:ecs.instance-type =~": expected a value after \'=~\', found the end of the expression at column 31',
    ]);
  });
});

const subjects: fc.Arbitrary<Subject> = fc.oneof(
  fc.constantFrom<Subject>({ kind: 'ec2InstanceId' }, { kind: 'taskGroup' }, { kind: 'runningTasksCount' }),
  fc.constantFrom('a', 'b', 'ecs.instance-type').map((name): Subject => ({ kind: 'attribute', name })),
);
const words = fc.constantFrom('x', 'y', 'z', '1', '10', 'service:web', 'i-1', 'needs space', "it's");

const comparison: fc.Arbitrary<QueryNode> = subjects.chain((subject) => {
  const operators: Operator[] =
    subject.kind === 'runningTasksCount'
      ? ['==', '!=', '>', '<=', 'in', '!in']
      : subject.kind === 'attribute'
        ? ['==', '!=', '>', '<', 'exists', '!exists', 'in', '!in', '=~', '!~']
        : ['==', '!=', 'exists', 'in', '!in', '=~'];
  const value = subject.kind === 'runningTasksCount' ? fc.integer({ min: 0, max: 5 }).map(String) : words;
  return fc.constantFrom(...operators).chain((operator) =>
    (operator === 'exists' || operator === '!exists'
      ? fc.constant([])
      : operator === 'in' || operator === '!in'
        ? fc.array(value, { minLength: 1, maxLength: 3 })
        : value.map((v) => [v])
    ).map((values): QueryNode => ({
      kind: 'compare',
      subject,
      operator,
      values: operator === '=~' || operator === '!~' ? values.map((v) => v.replace(/[^a-z0-9]/g, '') + '.*') : values,
    })),
  );
});

const tree: fc.Arbitrary<QueryNode> = fc.letrec<{ node: QueryNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.record({ kind: fc.constant('not' as const), operand: tie('node') }),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('node'), right: tie('node') }),
  ),
})).node;

const instance = fc.record({
  name: fc.constantFrom('i-1', 'i-2', 'x'),
  attributes: fc.dictionary(fc.constantFrom('a', 'b', 'ecs.instance-type'), words),
  groups: fc.subarray(['service:web', 'x', 'i-1', 'z']),
});

/** The meaning of a tree, written out plainly: what the compiled closures must agree with. */
function reference(node: QueryNode, f: { name: string; attributes: Record<string, string>; groups: string[] }): boolean {
  switch (node.kind) {
    case 'and':
      return reference(node.left, f) && reference(node.right, f);
    case 'or':
      return reference(node.left, f) || reference(node.right, f);
    case 'not':
      return !reference(node.operand, f);
    case 'compare': {
      const { subject, operator, values } = node;
      if (subject.kind === 'taskGroup') {
        const some = (test: (g: string) => boolean) => f.groups.some(test);
        const re = new RegExp(`^(?:${values[0]})$`);
        return {
          '==': () => some((g) => g === values[0]),
          '!=': () => !some((g) => g === values[0]),
          in: () => some((g) => values.includes(g)),
          '!in': () => !some((g) => values.includes(g)),
          '=~': () => some((g) => re.test(g)),
          '!~': () => !some((g) => re.test(g)),
          exists: () => f.groups.length > 0,
          '!exists': () => f.groups.length === 0,
        }[operator as '==']();
      }
      if (subject.kind === 'runningTasksCount') {
        const n = f.groups.length;
        const v = Number(values[0]);
        return { '==': n === v, '!=': n !== v, '>': n > v, '<=': n <= v, in: values.map(Number).includes(n), '!in': !values.map(Number).includes(n) }[
          operator as '=='
        ];
      }
      const actual = subject.kind === 'ec2InstanceId' ? f.name : f.attributes[(subject as { name: string }).name];
      const v = values[0];
      const numeric = actual !== undefined && /^\d+$/.test(actual) && /^\d+$/.test(v);
      const order = actual === undefined ? NaN : numeric ? Number(actual) - Number(v) : actual < v ? -1 : actual > v ? 1 : 0;
      switch (operator) {
        case 'exists':
          return actual !== undefined;
        case '!exists':
          return actual === undefined;
        case '==':
          return actual === v;
        case '!=':
          return actual !== v;
        case 'in':
          return actual !== undefined && values.includes(actual);
        case '!in':
          return actual === undefined || !values.includes(actual);
        case '=~':
          return actual !== undefined && new RegExp(`^(?:${v})$`).test(actual);
        case '!~':
          return actual === undefined || !new RegExp(`^(?:${v})$`).test(actual);
        case '>':
          return order > 0;
        case '<':
          return order < 0;
        default:
          throw new Error(`not generated: ${operator}`);
      }
    }
  }
}

describe('cluster query language properties', () => {
  test('parsing never throws, and a refusal points inside the text (or just past its end)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z:.\-=!<>&|()[\], '"~*]{0,40}$/)), (text) => {
        const parsed = parseClusterQuery(text);
        if (!parsed.ok) {
          expect(parsed.error.position).toBeGreaterThanOrEqual(1);
          expect(parsed.error.position).toBeLessThanOrEqual(text.length + 1);
          expect(parsed.error.message).toMatch(/at column \d+$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a formatted tree parses back to the same tree', () => {
    fc.assert(
      fc.property(tree, (node) => {
        expect(parseClusterQuery(formatClusterQuery(node))).toEqual({ ok: true, ast: node });
      }),
      { numRuns: 500 },
    );
  });

  test('the compiled query agrees with the plain reading of the tree', () => {
    fc.assert(
      fc.property(tree, instance, (node, f) => {
        const compiled = compileClusterQuery(formatClusterQuery(node));
        if (!compiled.ok) throw new Error(compiled.error.message);
        expect(compiled.query.matches(facts({ name: f.name, attributes: f.attributes, groups: f.groups }))).toBe(reference(node, f));
      }),
      { numRuns: 1000 },
    );
  });
});
