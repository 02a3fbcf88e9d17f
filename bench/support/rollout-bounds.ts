/**
 * Watches a service's tasks through the control plane's informer and checks the deployment bounds
 * of ecs-semantics.md at every observed state — every watch event is one state of etcd, in order:
 *
 *   live (not STOPPED: RUNNING, PENDING, and those still stopping)   ≤ ceiling = floor(maximumPercent × D / 100)
 *   healthy (RUNNING, not asked to stop, not UNHEALTHY)              ≥ floor   = ceil(minimumHealthyPercent × D / 100)
 *
 * Counts are kept per event in O(1), so the check costs nothing next to what it watches.
 */
import { tasks as taskType, type Task } from '../../src/api';
import type { SharedInformer } from '../../src/runtime/informer';
import { formatKey, keyOf } from '../../src/runtime/object-key';

interface TaskState {
  live: boolean;
  healthy: boolean;
}

export interface BoundsReport {
  states: number;
  maxLive: number;
  minHealthy: number;
  /** The first violations seen (at most 20), each with the counts at that state. */
  violations: string[];
  violationCount: number;
}

const stateOf = (task: Task): TaskState => ({
  live: task.status?.lastStatus !== 'STOPPED',
  healthy: task.status?.lastStatus === 'RUNNING' && task.spec.desiredStatus !== 'STOPPED' && task.status.healthStatus !== 'UNHEALTHY',
});

export class RolloutBoundsWatcher {
  private readonly states = new Map<string, TaskState>();
  private live = 0;
  private healthy = 0;
  private readonly report: BoundsReport = { states: 0, maxLive: 0, minHealthy: Number.POSITIVE_INFINITY, violations: [], violationCount: 0 };
  private readonly registration: { remove(): void };

  constructor(
    informer: SharedInformer<Task>,
    private readonly serviceName: string,
    private readonly bounds: { ceiling: number; floor: number },
  ) {
    // A handler added to a synced informer first gets an add for every cached task, one by one: that is
    // the cache being replayed, not states of the world, so the counts are seeded from it and checked once.
    let seeding = true;
    this.registration = informer.addEventHandler({
      onAdd: (task) => (seeding ? this.count(task, false) : this.observe(task, false)),
      onUpdate: (_old, task) => this.observe(task, false),
      onDelete: (task) => this.observe(task, true),
    });
    seeding = false;
    this.check(undefined);
  }

  result(): BoundsReport {
    return { ...this.report, violations: [...this.report.violations] };
  }

  stop(): void {
    this.registration.remove();
  }

  private observe(task: Task, deleted: boolean): void {
    if (this.count(task, deleted)) this.check(task);
  }

  /** Updates the counts; false when the task is not the service's. */
  private count(task: Task, deleted: boolean): boolean {
    if (task.spec.group !== `service:${this.serviceName}`) return false;
    const key = formatKey(keyOf(task));
    const before = this.states.get(key) ?? { live: false, healthy: false };
    const after = deleted ? { live: false, healthy: false } : stateOf(task);
    if (deleted) this.states.delete(key);
    else this.states.set(key, after);
    this.live += Number(after.live) - Number(before.live);
    this.healthy += Number(after.healthy) - Number(before.healthy);
    return true;
  }

  /** Checks the bounds at the current state, which `task`'s event (none: the initial state) brought about. */
  private check(task: Task | undefined): void {
    this.report.states++;
    this.report.maxLive = Math.max(this.report.maxLive, this.live);
    this.report.minHealthy = Math.min(this.report.minHealthy, this.healthy);
    const broken = [
      ...(this.live > this.bounds.ceiling ? [`${this.live} live > ceiling ${this.bounds.ceiling}`] : []),
      ...(this.healthy < this.bounds.floor ? [`${this.healthy} healthy < floor ${this.bounds.floor}`] : []),
    ];
    if (broken.length === 0) return;
    this.report.violationCount++;
    if (this.report.violations.length < 20) {
      const cause = task ? `${taskType.kind} ${task.metadata.name} → ${task.status?.lastStatus ?? 'new'}` : 'initial state';
      this.report.violations.push(`state ${this.report.states} (${cause}): ${broken.join(', ')}`);
    }
  }
}
