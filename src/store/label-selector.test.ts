import fc from 'fast-check';
import { formatLabelSelector, labelSelectorMatcher, parseLabelSelector, type LabelSelector } from './label-selector';

describe('formatLabelSelector', () => {
  it('writes matchLabels and every operator as the labelSelector parameter takes them', () => {
    expect(
      formatLabelSelector({
        matchLabels: { app: 'web', 'berth.dev/service': 'api' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front', 'edge'] },
          { key: 'env', operator: 'NotIn', values: ['test'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,berth.dev/service=api,tier in (front,edge),env notin (test),canary,!legacy');
    expect(formatLabelSelector(undefined)).toBe('');
    expect(formatLabelSelector({})).toBe('');
  });

  // The string the API server reads selects exactly what the structured selector selects.
  it('selects, once parsed back, the same label sets as the structured selector', () => {
    const key = fc.constantFrom('app', 'tier', 'env', 'example.com/zone');
    const value = fc.constantFrom('a', 'b', 'web', 'x-1');
    const expression = fc.record({
      key,
      operator: fc.constantFrom('In' as const, 'NotIn' as const, 'Exists' as const, 'DoesNotExist' as const),
      values: fc.array(value, { minLength: 1, maxLength: 3 }),
    });
    const selector: fc.Arbitrary<LabelSelector> = fc.record({
      matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
      matchExpressions: fc.array(expression, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(selector, fc.dictionary(key, value, { maxKeys: 4 }), (structured, labels) => {
        expect(parseLabelSelector(formatLabelSelector(structured))(labels)).toBe(labelSelectorMatcher(structured)(labels));
      }),
    );
  });
});
