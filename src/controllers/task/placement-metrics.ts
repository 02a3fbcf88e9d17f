import { Counter, Gauge, type Registry } from 'prom-client';
import type { WaitCode } from '../placement';

/** A task a placement batch could not place, and what blocks it on its closest instance. */
export interface WaitingTask {
  uid: string;
  code: WaitCode;
}

/** Tasks that fit nowhere, by cluster and by what blocks them on their closest instance. */
export interface PlacementMetrics {
  /** Replaces what was reported for the cluster: `waiting` holds every task still waiting after a batch. */
  report(namespace: string, cluster: string, waiting: readonly WaitingTask[]): void;
  /** The cluster is gone: its series go too, so clusters made and deleted do not grow the scrape forever. */
  forget(namespace: string, cluster: string): void;
}

export function placementMetrics(registry: Registry): PlacementMetrics {
  const awaiting = new Gauge({
    name: 'berth_tasks_awaiting_placement',
    help: 'Tasks of a cluster that no container instance can take, by what blocks them (RESOURCE:MEMORY, CONSTRAINT:memberOf, ...).',
    labelNames: ['namespace', 'cluster', 'reason'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'berth_placement_failures_total',
    help: 'Tasks that found no container instance, by what blocked them: counted once per task and reason, however many batches it then waits.',
    labelNames: ['namespace', 'cluster', 'reason'] as const,
    registers: [registry],
  });
  /** namespace/cluster → every reason reported for it: one no task waits for any more reads 0, not nothing (a dashboard shows the drop). */
  const reported = new Map<string, Set<WaitCode>>();
  /** namespace/cluster → the tasks waiting after its last batch, with their reasons: a task still waiting for the same reason is not counted again. */
  const counted = new Map<string, Map<string, WaitCode>>();
  return {
    report(namespace, cluster, waiting) {
      const key = `${namespace}/${cluster}`;
      const counts = new Map<WaitCode, number>();
      for (const { code } of waiting) counts.set(code, (counts.get(code) ?? 0) + 1);
      const reasons = reported.get(key) ?? new Set<WaitCode>();
      for (const code of counts.keys()) reasons.add(code);
      reported.set(key, reasons);
      for (const code of reasons) awaiting.set({ namespace, cluster, reason: code }, counts.get(code) ?? 0);
      const before = counted.get(key);
      for (const { uid, code } of waiting) if (before?.get(uid) !== code) failures.inc({ namespace, cluster, reason: code });
      counted.set(key, new Map(waiting.map(({ uid, code }) => [uid, code])));
    },
    forget(namespace, cluster) {
      const key = `${namespace}/${cluster}`;
      // Every reason a failure was counted for was reported too: the set names every series of both.
      for (const reason of reported.get(key) ?? []) {
        awaiting.remove({ namespace, cluster, reason });
        failures.remove({ namespace, cluster, reason });
      }
      reported.delete(key);
      counted.delete(key);
    },
  };
}
