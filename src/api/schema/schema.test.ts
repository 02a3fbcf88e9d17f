import { reject, rule, s, type Infer, type InferInput } from './index';

const probe = s
  .object(
    {
      name: s.string({ minLength: 1, maxLength: 5, pattern: '^[a-z]+$' }),
      mode: s.enum(['a', 'b']).default('a'),
      count: s.integer({ minimum: 1, maximum: 10 }).optional(),
      limits: s
        .object({ soft: s.integer().default(1), hard: s.integer().default(2) })
        .withRules(rule({ cel: 'self.soft <= self.hard', message: 'soft must not exceed hard', fieldPath: '.soft', check: (self) => self.soft <= self.hard }))
        .default({}),
      items: s.array(s.object({ key: s.string(), value: s.string().optional() }), { maxItems: 2, mapKeys: ['key'] }).optional(),
      tags: s.array(s.string(), { set: true }).optional(),
      labels: s.map(s.string(), { maxProperties: 1 }).optional(),
      frozen: s
        .string()
        .withRules(rule({ cel: 'self == oldSelf', message: 'frozen is immutable', check: (self, oldSelf) => self === oldSelf }))
        .optional(),
    },
    { rejected: { legacy: reject(s.string(), 'use name') } },
  )
  .withRules(
    rule({
      cel: "self.mode != 'b' || has(self.count)",
      message: 'mode b needs a count',
      fieldPath: '.count',
      reason: 'FieldValueRequired',
      check: (self) => self.mode !== 'b' || self.count !== undefined,
    }),
  );

function refusals(value: unknown, old?: unknown): string[] {
  const context = { errors: [] as string[] };
  const copy = structuredClone(value);
  probe.applyDefaults(copy);
  probe.validate(copy, 'spec', old, context);
  return context.errors;
}

describe('schema DSL', () => {
  it('infers stored and input types: defaulted fields are present when stored, optional when written', () => {
    const written: InferInput<typeof probe> = { name: 'x' };
    const stored: Infer<typeof probe> = { name: 'x', mode: 'a', limits: { soft: 1, hard: 2 } };
    expect(refusals(written)).toEqual([]);
    expect(stored.limits.soft).toBe(1);
  });

  it('renders a structural OpenAPI schema with required, defaults, list types and CEL rules', () => {
    const openapi = probe.toOpenAPI();
    expect(openapi.type).toBe('object');
    expect(openapi.required).toEqual(['name']);
    expect(openapi.properties?.mode).toEqual({ type: 'string', enum: ['a', 'b'], default: 'a' });
    expect(openapi.properties?.items).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key'], maxItems: 2 });
    expect(openapi.properties?.tags?.['x-kubernetes-list-type']).toBe('set');
    expect(openapi.properties?.labels).toEqual({ type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } });
    expect(openapi.properties?.legacy).toEqual({ description: 'legacy is not supported: use name', type: 'string' });
    expect(openapi['x-kubernetes-validations']).toEqual([
      { rule: "self.mode != 'b' || has(self.count)", message: 'mode b needs a count', fieldPath: '.count', reason: 'FieldValueRequired' },
      { rule: '!has(self.legacy)', message: 'legacy is not supported: use name', fieldPath: '.legacy', reason: 'FieldValueForbidden' },
    ]);
  });

  it('applies defaults recursively, into defaulted parents, and prunes nulls first', () => {
    const value: Record<string, unknown> = { name: 'x', count: null };
    probe.applyDefaults(value);
    expect(value).toEqual({ name: 'x', mode: 'a', limits: { soft: 1, hard: 2 } });
  });

  it('words schema refusals as the API server does', () => {
    expect(refusals({ mode: 'c', count: 11, tags: ['x', 'x'], labels: { a: '1', b: '2' }, extra: true })).toEqual([
      'spec.name: Required value',
      'spec.mode: Unsupported value: "c": supported values: "a", "b"',
      'spec.count: Invalid value: 11: spec.count in body should be less than or equal to 10',
      'spec.tags[1]: Duplicate value: "x"',
      'spec.labels: Too many: 2: must have at most 1 items',
      'unknown field "spec.extra"',
    ]);
    expect(refusals({ name: 'ABCDEF1', count: '3' })).toEqual([
      'spec.name: Too long: may not be more than 5 bytes',
      'spec.name: Invalid value: "ABCDEF1": spec.name in body should match \'^[a-z]+$\'',
      'spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"',
    ]);
    expect(refusals({ name: 'x', items: [{ key: 'k' }, { key: 'k' }, { key: 'l' }] })).toEqual([
      'spec.items: Too many: 3: must have at most 2 items',
      'spec.items[1]: Duplicate value: {"key":"k"}',
    ]);
  });

  it('reports CEL rules at their fieldPath, with their reason', () => {
    expect(refusals({ name: 'x', mode: 'b' })).toEqual(['spec.count: Required value: mode b needs a count']);
    expect(refusals({ name: 'x', limits: { soft: 3 } })).toEqual(['spec.limits.soft: Invalid value: "object": soft must not exceed hard']);
    expect(refusals({ name: 'x', legacy: 'y' })).toEqual(['spec.legacy: Forbidden: legacy is not supported: use name']);
  });

  it('skips rules over a node that failed the schema, as their predicates expect well-typed values', () => {
    expect(refusals({ name: 'x', mode: 'b', count: 'many' })).toEqual([
      'spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"',
    ]);
  });

  it('runs transition rules only on update, against the correlated old value', () => {
    expect(refusals({ name: 'x', frozen: 'a' })).toEqual([]);
    expect(refusals({ name: 'x', frozen: 'b' }, { name: 'x', frozen: 'a' })).toEqual(['spec.frozen: Invalid value: "string": frozen is immutable']);
    expect(refusals({ name: 'x', frozen: 'b' }, { name: 'x' })).toEqual([]);
  });

  it('correlates list-map items by key for transition rules', () => {
    const keyed = s.array(
      s.object({ key: s.string(), value: s.string().withRules(rule({ cel: 'self == oldSelf', message: 'immutable', check: (a, b) => a === b })) }),
      { mapKeys: ['key'] },
    );
    const errorsOf = (value: unknown, old: unknown) => {
      const context = { errors: [] as string[] };
      keyed.validate(value, 'spec.items', old, context);
      return context.errors;
    };
    const old = [{ key: 'a', value: '1' }];
    expect(
      errorsOf(
        [
          { key: 'b', value: '2' },
          { key: 'a', value: '1' },
        ],
        old,
      ),
    ).toEqual([]);
    expect(
      errorsOf(
        [
          { key: 'b', value: '2' },
          { key: 'a', value: '3' },
        ],
        old,
      ),
    ).toEqual(['spec.items[1].value: Invalid value: "string": immutable']);
  });

  describe('optionalOldSelf rules', () => {
    // Refuses a size above its limit when created or when the limit changes; a later change of size alone passes.
    const sized = s.object({ size: s.integer(), limit: s.integer() }).withRules(
      rule({
        cel: '(oldSelf.hasValue() && oldSelf.value().limit == self.limit) || self.size <= self.limit',
        optionalOldSelf: true,
        message: 'size exceeds limit',
        messageExpression: {
          cel: "'size %d exceeds limit %d'.format([self.size, self.limit])",
          render: (self) => `size ${self.size} exceeds limit ${self.limit}`,
        },
        check: (self, oldSelf) => (oldSelf !== undefined && oldSelf.limit === self.limit) || self.size <= self.limit,
      }),
    );
    const errorsOf = (value: unknown, old?: unknown) => {
      const context = { errors: [] as string[] };
      sized.validate(value, 'spec', old, context);
      return context.errors;
    };

    it('render optionalOldSelf and messageExpression into the CRD', () => {
      expect(sized.toOpenAPI()['x-kubernetes-validations']).toEqual([
        {
          rule: '(oldSelf.hasValue() && oldSelf.value().limit == self.limit) || self.size <= self.limit',
          message: 'size exceeds limit',
          messageExpression: "'size %d exceeds limit %d'.format([self.size, self.limit])",
          optionalOldSelf: true,
        },
      ]);
    });

    it('run on create, without an old value, and word the refusal with the message expression', () => {
      expect(errorsOf({ size: 3, limit: 2 })).toEqual(['spec: Invalid value: "object": size 3 exceeds limit 2']);
      expect(errorsOf({ size: 2, limit: 2 })).toEqual([]);
    });

    it('run on update against the old value', () => {
      expect(errorsOf({ size: 3, limit: 2 }, { size: 1, limit: 2 })).toEqual([]);
      expect(errorsOf({ size: 3, limit: 1 }, { size: 3, limit: 2 })).toEqual(['spec: Invalid value: "object": size 3 exceeds limit 1']);
    });
  });

  it('falls back to the static message when the message expression fails, as the API server does', () => {
    const failing = s.integer().withRules(
      rule({
        cel: 'self < 0',
        message: 'must be negative',
        messageExpression: {
          cel: "'%s is not negative'.format([self.missing])",
          render: () => {
            throw new Error('no such key: missing');
          },
        },
        check: (self) => self < 0,
      }),
    );
    const context = { errors: [] as string[] };
    failing.validate(1, 'spec.n', undefined, context);
    expect(context.errors).toEqual(['spec.n: Invalid value: "integer": must be negative']);
  });

  // A null entry of a map (`attributes: {tier: null}`) is pruned by the API server; the embedded store once
  // refused it as a value of the wrong type.
  test('a null map value is pruned before validation, as the API server prunes it', () => {
    const schema = s.object({ attributes: s.map(s.string()).optional() });
    const value = { attributes: { tier: null, zone: 'a' } };
    schema.applyDefaults(value);
    expect(value).toEqual({ attributes: { zone: 'a' } });
    const context = { errors: [] as string[] };
    schema.validate(value, 'spec', undefined, context);
    expect(context.errors).toEqual([]);
  });
});
