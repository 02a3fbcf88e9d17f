import { serviceLabel, tasks as taskType, type Service, type Task } from '../api';
import { metaTime, type Clock, type TimerHandle } from '../runtime/clock';
import { settleAll } from '../runtime/concurrency';
import type { SharedInformer } from '../runtime/informer';
import type { Logger } from '../runtime/logger';
import { isStoreError, type ObjectStore } from '../store/object-store';
import type { TaskRuntime, TaskUsage } from './task-runtime';

export interface UsageReporterDeps {
  store: ObjectStore;
  clock: Clock;
  log: Logger;
  runtime: TaskRuntime;
  services: SharedInformer<Service>;
  /** The seat's tasks, from the cache. */
  tasks(): Task[];
  periodMs: number;
}

/** Engine reads at once per seat: a stats call is a few milliseconds, and a seat runs tens of tasks. */
const readsAtOnce = 4;

/**
 * A service whose auto scaling reads its tasks' CPU or memory: only their tasks cost a write a period. A policy
 * on ALBRequestCountPerTarget reads the service's requests from an external metric, never its tasks.
 */
export function scalesOnUsage(service: Service | undefined): boolean {
  const policies = service?.spec.autoScaling;
  const onUsage = (metric: string) => metric !== 'ALBRequestCountPerTarget';
  return (policies?.targetTracking ?? []).some((p) => onUsage(p.predefinedMetric)) || (policies?.stepScaling ?? []).some((p) => onUsage(p.metric));
}

/**
 * Once a metrics period, what each RUNNING task of an auto-scaled service used, into its status.usage (a merge
 * patch of that field alone), as the ECS agent sends a task's metrics once a minute. From a Docker engine CPU
 * is the average over the whole period, from two readings of the engine's cumulative counter: 30e9 ns used in
 * 60 s is 30e9 / 60e9 × 1024 = 512 CPU units, half a vCPU, so a task's first report comes one period after it
 * is first read. From Pods it is metrics.k8s.io's rate over its own window (see periodReport).
 * Tasks of services without scaling policies are never read: 10,000 tasks at one write a minute each would be
 * 167 writes a second for nothing.
 */
export class UsageReporter {
  private readonly previous = new Map<string, TaskUsage>();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly deps: UsageReporterDeps) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      void this.report()
        .catch((error: Error) => this.deps.log.warn('task usage report failed', { error: error.message }))
        .finally(() => this.schedule());
    }, this.deps.periodMs);
  }

  private async report(): Promise<void> {
    const measured = this.deps.tasks().filter((task) => task.status?.lastStatus === 'RUNNING' && scalesOnUsage(this.serviceOf(task)));
    const uids = new Set(measured.map((task) => task.metadata.uid!));
    for (const uid of this.previous.keys()) if (!uids.has(uid)) this.previous.delete(uid);
    const results = await settleAll(measured, readsAtOnce, async (task) => {
      const usage = await this.deps.runtime.usage(task.metadata.uid!);
      if (!usage) return;
      const before = this.previous.get(task.metadata.uid!);
      this.previous.set(task.metadata.uid!, usage);
      const report = periodReport(usage, before);
      if (!report) return;
      await this.deps.store.patch(taskType, task.metadata.namespace, task.metadata.name, { status: { usage: report } }, 'status').catch((error: unknown) => {
        if (!isStoreError(error, 'NotFound')) throw error;
      });
    });
    const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (failed.length > 0) this.deps.log.warn('task usage reports failed', { failed: failed.length, of: measured.length, error: failed[0].message });
  }

  private serviceOf(task: Task): Service | undefined {
    const name = task.metadata.labels?.[serviceLabel];
    return name ? this.deps.services.get(task.metadata.namespace, name) : undefined;
  }
}

/**
 * The report of one reading, given the task's reading before it; undefined when it says nothing new.
 *  - A rate (Pods: metrics.k8s.io) is reported as it comes, with the pipeline's own window: 250000000n over
 *    10 s is 0.25 × 1024 = 256 units, windowSeconds 10, sampledAt the window's end. Read again before the
 *    pipeline measured again (same timestamp), it is the same sample: not a second report, so not a second datapoint.
 *  - A cumulative counter (Docker) takes two readings: 30e9 ns more in 60 s is 512 units, windowSeconds 60.
 *    A first reading, or one after a rate, only sets the baseline.
 */
export function periodReport(usage: TaskUsage, before: TaskUsage | undefined): NonNullable<NonNullable<Task['status']>['usage']> | undefined {
  if (before && usage.readAt <= before.readAt) return undefined;
  let cpuUnits: number;
  let windowMs: number;
  if ('cpuNanocores' in usage) {
    cpuUnits = (usage.cpuNanocores / 1e9) * 1024;
    windowMs = usage.windowMs;
  } else {
    if (!before || !('cpuNanoseconds' in before)) return undefined;
    windowMs = usage.readAt - before.readAt;
    cpuUnits = (Math.max(0, usage.cpuNanoseconds - before.cpuNanoseconds) / (windowMs * 1e6)) * 1024;
  }
  return { cpuUnits: round(cpuUnits), memoryMiB: round(usage.memoryBytes / 2 ** 20), windowSeconds: round(windowMs / 1000), sampledAt: metaTime(usage.readAt) };
}

const round = (value: number) => Math.round(value * 100) / 100;
