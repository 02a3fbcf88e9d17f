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

/** A service whose auto scaling reads its tasks' CPU or memory: only their tasks cost a write a period. */
export function scalesOnUsage(service: Service | undefined): boolean {
  const policies = service?.spec.autoScaling;
  return (policies?.targetTracking ?? []).length > 0 || (policies?.stepScaling ?? []).length > 0;
}

/**
 * Once a metrics period, what each RUNNING task of an auto-scaled service used, into its status.usage (a merge
 * patch of that field alone), as the ECS agent sends a task's metrics once a minute. CPU is the average over
 * the whole period, from two readings of the engine's cumulative counter: 30e9 ns used in 60 s is 30e9 / 60e9
 * × 1024 = 512 CPU units, half a vCPU. So a task's first report comes one period after it is first read.
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
      if (!before || usage.readAt <= before.readAt) return;
      const windowMs = usage.readAt - before.readAt;
      const report = {
        cpuUnits: round((Math.max(0, usage.cpuNanoseconds - before.cpuNanoseconds) / (windowMs * 1e6)) * 1024),
        memoryMiB: round(usage.memoryBytes / 2 ** 20),
        windowSeconds: round(windowMs / 1000),
        sampledAt: metaTime(usage.readAt),
      };
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

const round = (value: number) => Math.round(value * 100) / 100;
