import type { PlacementStrategy } from './scheduler';

/**
 * ECS's default when a request names no strategy. A service's tasks are spread over availability
 * zones (ECS's documented default for services), then over the instances of each zone, as the ECS
 * console's "AZ balanced spread" template does: without the second step the zone's first instance by
 * name would take every task of the zone. Standalone tasks (RunTask) are placed at random.
 *
 *   e.g. 4 tasks of service:web, zones a (i-1, i-2) and b (i-3): a, b, a, b by zone; i-1, i-3, i-2, i-3.
 */
export const defaultServiceStrategy: readonly PlacementStrategy[] = [
  { type: 'spread', field: 'attribute:ecs.availability-zone' },
  { type: 'spread', field: 'instanceId' },
];
export const defaultStandaloneStrategy: readonly PlacementStrategy[] = [{ type: 'random' }];

export function effectiveStrategy(strategy: readonly PlacementStrategy[], group: string | undefined): readonly PlacementStrategy[] {
  if (strategy.length > 0) return strategy;
  return group?.startsWith('service:') ? defaultServiceStrategy : defaultStandaloneStrategy;
}

/**
 * A strategy step as the engine ranks with it: lower keys win, equal keys pass the tie on to the
 * next step. `random` ends the ranking, since it breaks every tie that is left.
 */
export type RankStep = { by: 'cpu' | 'memory' } | { by: 'spread'; field: SpreadField } | { by: 'random' };

/** What spread balances over: each instance on its own, or the values of one attribute. */
export type SpreadField = { instanceId: true } | { attribute: string };

export function rankSteps(strategy: readonly PlacementStrategy[]): RankStep[] {
  const steps: RankStep[] = [];
  for (const step of strategy) {
    if (step.type === 'random') {
      steps.push({ by: 'random' });
      break;
    }
    if (step.type === 'binpack') steps.push({ by: step.field === 'cpu' ? 'cpu' : 'memory' });
    else steps.push({ by: 'spread', field: spreadField(step.field ?? 'instanceId') });
  }
  return steps;
}

/** `instanceId` and `host` spread over instances; `attribute:NAME` over NAME's values. */
export function spreadField(field: string): SpreadField {
  if (field === 'instanceId' || field === 'host') return { instanceId: true };
  return { attribute: field.startsWith('attribute:') ? field.slice('attribute:'.length) : field };
}
