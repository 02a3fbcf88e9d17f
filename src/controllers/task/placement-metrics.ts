import { Gauge, type Registry } from 'prom-client';
import type { WaitCode } from '../placement';

/** Tasks that fit nowhere, by cluster and by what blocks them on their closest instance. */
export interface PlacementMetrics {
  /** Replaces what was reported for the cluster: `waiting` holds the code of every task still waiting after a batch. */
  report(namespace: string, cluster: string, waiting: readonly WaitCode[]): void;
}

export function placementMetrics(registry: Registry): PlacementMetrics {
  const awaiting = new Gauge({
    name: 'berth_tasks_awaiting_placement',
    help: 'Tasks of a cluster that no container instance can take, by what blocks them (RESOURCE:MEMORY, CONSTRAINT:memberOf, ...).',
    labelNames: ['namespace', 'cluster', 'reason'] as const,
    registers: [registry],
  });
  const reported = new Map<string, Set<WaitCode>>();
  return {
    report(namespace, cluster, waiting) {
      const key = `${namespace}/${cluster}`;
      const counts = new Map<WaitCode, number>();
      for (const code of waiting) counts.set(code, (counts.get(code) ?? 0) + 1);
      for (const code of reported.get(key) ?? []) if (!counts.has(code)) awaiting.remove({ namespace, cluster, reason: code });
      for (const [code, count] of counts) awaiting.set({ namespace, cluster, reason: code }, count);
      reported.set(key, new Set(counts.keys()));
    },
  };
}
