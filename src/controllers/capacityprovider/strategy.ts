import type { ServiceSpec } from '../../api';

export type CapacityProviderStrategy = NonNullable<ServiceSpec['capacityProviderStrategy']>;

/**
 * The capacity provider of a group's next task, ECS's way: the provider with a `base` takes tasks until
 * it runs `base` of them; the rest are split by `weight`. Each task past the bases goes to the provider
 * furthest behind its exact share: with n tasks already placed past the bases and W the sum of the
 * weights, the one with the largest (n + 1) × weight / W − (its tasks past its base), the first in the
 * strategy on a tie. A provider of weight 0 takes no task past its base. Unlike "least (count + 1) /
 * weight" (D'Hondt), which lets a heavy provider run ahead (weights 4:1:1 give it the first 4 tasks,
 * 1.3 over its share), this keeps every provider within one task of its share.
 *
 *   e.g. base 2 on A, weights A:1 B:3 (W = 4), no task yet: A, A (the base); then n = 0: A 1/4 − 0,
 *   B 3/4 − 0 → B; n = 1: A 2/4 − 0, B 6/4 − 1 → tie, A; n = 2: A 3/4 − 1, B 9/4 − 1 → B; n = 3: B.
 *   After 6 tasks A runs 2 + 1 and B 3: one of every four past the base on A.
 *
 * Compared multiplied by W, so in integers. Deterministic, and depending only on the counts, so a batch
 * that counts each choice before the next gives the same split as one task at a time. A strategy of one
 * provider always gives that provider.
 */
export function nextCapacityProvider(strategy: CapacityProviderStrategy, assigned: ReadonlyMap<string, number>): string {
  const withBase = strategy.find((item) => item.base > 0);
  if (withBase && (assigned.get(withBase.capacityProvider) ?? 0) < withBase.base) return withBase.capacityProvider;
  const beyondBase = (item: CapacityProviderStrategy[number]) => Math.max(0, (assigned.get(item.capacityProvider) ?? 0) - item.base);
  const totalWeight = strategy.reduce((sum, item) => sum + item.weight, 0);
  const placed = strategy.reduce((sum, item) => sum + (item.weight > 0 ? beyondBase(item) : 0), 0);
  let chosen = strategy[0].capacityProvider;
  let furthestBehind = -Infinity;
  for (const item of strategy) {
    if (item.weight === 0) continue;
    const behind = (placed + 1) * item.weight - beyondBase(item) * totalWeight;
    if (behind > furthestBehind) {
      furthestBehind = behind;
      chosen = item.capacityProvider;
    }
  }
  return chosen;
}
