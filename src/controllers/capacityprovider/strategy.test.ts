import fc from 'fast-check';
import { nextCapacityProvider, type CapacityProviderStrategy } from './strategy';

function assign(strategy: CapacityProviderStrategy, tasks: number, start: Record<string, number> = {}): string[] {
  const assigned = new Map(Object.entries(start));
  const chosen: string[] = [];
  for (let i = 0; i < tasks; i++) {
    const provider = nextCapacityProvider(strategy, assigned);
    assigned.set(provider, (assigned.get(provider) ?? 0) + 1);
    chosen.push(provider);
  }
  return chosen;
}

describe('nextCapacityProvider', () => {
  test('the worked example: base 2 on A, weights A:1 B:3', () => {
    const strategy = [
      { capacityProvider: 'a', base: 2, weight: 1 },
      { capacityProvider: 'b', base: 0, weight: 3 },
    ];
    expect(assign(strategy, 6)).toEqual(['a', 'a', 'b', 'a', 'b', 'b']);
  });

  test('counts the tasks already running: a service scaled out continues the split where it stands', () => {
    const strategy = [
      { capacityProvider: 'a', base: 1, weight: 1 },
      { capacityProvider: 'b', base: 0, weight: 1 },
    ];
    expect(assign(strategy, 2, { a: 1, b: 3 })).toEqual(['a', 'a']);
    expect(assign(strategy, 1, { b: 5 })).toEqual(['a']);
  });

  test('a heavy provider does not run ahead of its share (weights 4:1:1, 4 tasks: share 2.67 on the heavy one)', () => {
    const strategy = [
      { capacityProvider: 'heavy', base: 0, weight: 4 },
      { capacityProvider: 'b', base: 0, weight: 1 },
      { capacityProvider: 'c', base: 0, weight: 1 },
    ];
    expect(assign(strategy, 4)).toEqual(['heavy', 'heavy', 'b', 'heavy']);
    expect(assign(strategy, 6).filter((p) => p === 'heavy')).toHaveLength(4);
  });

  test('a weight of 0 takes nothing past its base; a lone provider takes everything', () => {
    expect(
      assign(
        [
          { capacityProvider: 'a', base: 1, weight: 0 },
          { capacityProvider: 'b', base: 0, weight: 1 },
        ],
        4,
      ),
    ).toEqual(['a', 'b', 'b', 'b']);
    expect(assign([{ capacityProvider: 'only', base: 0, weight: 0 }], 3)).toEqual(['only', 'only', 'only']);
  });

  test('after n tasks each provider runs its base plus its weighted share of the rest, within one', () => {
    const strategies = fc
      .uniqueArray(fc.record({ capacityProvider: fc.constantFrom('a', 'b', 'c', 'd'), base: fc.nat({ max: 5 }), weight: fc.nat({ max: 5 }) }), {
        minLength: 1,
        maxLength: 4,
        selector: (item) => item.capacityProvider,
      })
      .map((items) => items.map((item, i) => (i === 0 ? item : { ...item, base: 0 })))
      .filter((items) => items.length === 1 || items.some((item) => item.weight > 0));
    fc.assert(
      fc.property(strategies, fc.nat({ max: 60 }), (strategy, tasks) => {
        const chosen = assign(strategy, tasks);
        const count = (provider: string) => chosen.filter((p) => p === provider).length;
        const base = strategy[0].base;
        const totalWeight = strategy.reduce((sum, item) => sum + item.weight, 0);
        if (strategy.length === 1 || totalWeight === 0) return;
        const rest = Math.max(0, tasks - base);
        for (const item of strategy) {
          const ownBase = item === strategy[0] ? Math.min(base, tasks) : 0;
          const share = (rest * item.weight) / totalWeight;
          expect(Math.abs(count(item.capacityProvider) - ownBase - share)).toBeLessThanOrEqual(1);
          if (item.weight === 0) expect(count(item.capacityProvider)).toBe(ownBase);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
