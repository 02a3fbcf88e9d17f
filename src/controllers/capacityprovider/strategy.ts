import type { ServiceSpec } from '../../api';

export type CapacityProviderStrategy = NonNullable<ServiceSpec['capacityProviderStrategy']>;

/**
 * The capacity provider of a group's next task, ECS's way: the provider with a `base` takes tasks until
 * it runs `base` of them; after that each task goes where the split by `weight` is furthest behind,
 * i.e. to the provider with the least (tasks beyond its base + 1) / weight, the first in the strategy
 * on a tie. A provider of weight 0 takes no task past its base.
 *
 *   e.g. base 2 on A, weights A:1 B:3, no task yet: A, A (the base), then B (A 1/1 vs B 1/3), B (1 vs 2/3),
 *   A (1 vs 1, A first), B: after 6 tasks A runs 2 + 1 and B 3, one of every four past the base on A.
 *
 * Deterministic, and depending only on the counts, so a batch that counts each choice before the next
 * gives the same split as one task at a time. A strategy of one provider always gives that provider.
 */
export function nextCapacityProvider(strategy: CapacityProviderStrategy, assigned: ReadonlyMap<string, number>): string {
  const withBase = strategy.find((item) => item.base > 0);
  if (withBase && (assigned.get(withBase.capacityProvider) ?? 0) < withBase.base) return withBase.capacityProvider;
  let chosen = strategy[0].capacityProvider;
  let lowest = Infinity;
  for (const item of strategy) {
    if (item.weight === 0) continue;
    const beyondBase = Math.max(0, (assigned.get(item.capacityProvider) ?? 0) - item.base);
    const share = (beyondBase + 1) / item.weight;
    if (share < lowest) {
      lowest = share;
      chosen = item.capacityProvider;
    }
  }
  return chosen;
}
