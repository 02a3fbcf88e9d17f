// Every state the API server's Tasks of one namespace pass through, as the test process sees them: one
// raw watch (not an informer, which would relist and diff after a gap and so skip states), each event
// applied in resourceVersion order. After each event the ledger holds exactly what etcd held at that
// revision, and the invariants of a rolling update are checked against it:
//
//   ceiling    tasks not STOPPED (those stopping too: they still hold their resources) ≤ floor(max% × D / 100)
//   floor      RUNNING-and-healthy tasks ≥ ceil(min% × D / 100), counted as the service scheduler counts
//              them: lastStatus RUNNING, desiredStatus RUNNING, health not UNHEALTHY
//   per deployment   tasks not STOPPED of one deployment (startedBy) ≤ D
//   names      a task name is held by one uid until that task has STOPPED and been removed: never two at once,
//              nor a task replaced under its name (the service frees the names of the STOPPED tasks it prunes)
//   lifecycle  a task's lastStatus never moves backwards (PROVISIONING … STOPPED)
//
// The floor and ceiling are checked from `checkBounds()` on (once the service first reached a steady
// state), the others from the start. Through a fault that stops running tasks (`checkBoundsThroughFault()`)
// the floor is not judged (the fault itself takes tasks below it), and a deployment may hold D tasks
// besides those still stopping (the service replaces a failed task once it is asked to stop, as far as
// the ceiling allows): its bound there is the ceiling. e.g. D 3, max 200 %: 3 + 3 stopping ≤ 6. A watch that ends with an error (e.g. 410 Gone) is a gap in what was
// observed, and is itself a violation: the ledger never claims states it did not see.
//
// Except around an API server restart a suite makes on purpose: `outage()` before it stops kube-apiserver
// (the watch then ends, as it must, and is not resumed), `resync()` as soon as it is stopped. The restarted
// server's watch cache starts at etcd's current revision, so a watch from the last version seen answers 410
// Gone: resync() lists instead, every 50 ms from the stop until the server serves Task watches again (lists
// answer, from etcd, a second or so before watches do; the operator's informers back off 0.8 s and more),
// applies each list's difference as one state — a list is a state etcd held — then watches from a last list,
// and records every task that changed unseen (`unobserved`): the states between two lists were not checked,
// and a task deleted unseen has no observed end (rollout-checks.ts says so).
import { KubeConfig } from '@kubernetes/client-node';
import { tasks as taskType, type Task } from '../../../src/api';
import { taskStatusOrder } from '../../../src/ecs/task-lifecycle';
import { eventually } from '../../../src/runtime/eventually';
import { KubeStore } from '../../../src/store/kube/kube-store';
import type { ListResult, Watch } from '../../../src/store/object-store';
import { testEnv } from '../../env/env';

export interface Bounds {
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
}

/** What one task went through, by uid, from the first event that showed it. */
export interface TaskHistory {
  uid: string;
  name: string;
  deployment: string;
  taskDefinition: string;
  /** Each distinct lastStatus in the order seen ('' before the first status). */
  statuses: string[];
  stopCode?: string;
  stoppedReason?: string;
  deleted: boolean;
}

/** Extremes seen since the last `resetExtremes()`. */
export interface Extremes {
  maxNotStopped: number;
  minHealthy: number;
  maxLivePerDeployment: number;
  events: number;
}

const maxKeptViolations = 25;

export class TaskLedger {
  /** The Tasks as they stand after the last event, by name. */
  readonly tasks = new Map<string, Task>();
  /** Every task ever seen, by uid. */
  readonly history = new Map<string, TaskHistory>();
  readonly violations: string[] = [];
  violationCount = 0;
  events = 0;
  private readonly uidOfName = new Map<string, string>();
  private bounds: { perDeployment: number; ceiling: number; floor: number; group?: string } | undefined;
  private extremes: Extremes = { maxNotStopped: 0, minHealthy: Infinity, maxLivePerDeployment: 0, events: 0 };
  private watch: Watch | undefined;
  private resourceVersion = '';
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private readonly store: KubeStore;

  /** Tasks that changed while the watch was down for an `outage()`, by name, in the order of the resyncs. */
  readonly unobserved: string[] = [];
  private inOutage = false;

  /** `kubeconfig`: the shared test environment's, or that of one a suite started itself. */
  constructor(
    private readonly namespace: string,
    kubeconfig: string = testEnv().kubeconfig,
  ) {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    // One long watch: a server-side timeout only means watching again from the last version seen.
    this.store = new KubeStore(config, { watchTimeoutSeconds: 3600 });
  }

  async start(): Promise<void> {
    await eventually(() => this.acceptsWatch(), 'the API server to serve a Task watch', { timeoutMs: 60_000, intervalMs: 50 });
    const list = await this.store.list<Task>(taskType, this.namespace);
    for (const task of list.items) this.apply('ADDED', task);
    this.resourceVersion = list.resourceVersion;
    await this.watchFrom();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  /** The API server is about to be stopped on purpose: the watch ending is expected, and waits for `resync()`. */
  outage(): void {
    this.inOutage = true;
  }

  /**
   * After an `outage()`, once the API server is stopped: lists the Tasks every 50 ms (within `timeoutMs`) until
   * the server serves Task watches again, applying each list that answers as one observed state (checked like
   * any other), then watches again from a last list; returns the names of the tasks that changed unseen.
   */
  async resync(timeoutMs: number): Promise<string[]> {
    if (!this.inOutage) throw new Error('resync() without outage()');
    this.watch?.stop();
    this.watch = undefined;
    const changed = new Set<string>();
    // Refused while it is down; answered from etcd while its watch cache fills (watches get 429 meanwhile).
    await eventually(
      async () => {
        this.applyList(await this.store.list<Task>(taskType, this.namespace), changed);
        return this.acceptsWatch();
      },
      'the API server to serve Task watches again',
      { timeoutMs, intervalMs: 50 },
    );
    // Listed after the watch cache started, so a watch from this list's version is served (not 410).
    this.applyList(await this.store.list<Task>(taskType, this.namespace), changed);
    this.inOutage = false;
    await this.watchFrom();
    this.unobserved.push(...changed);
    return [...changed];
  }

  /** Applies a list as one observed state: what differs from the ledger changed unseen (added to `changed`). */
  private applyList(list: ListResult<Task>, changed: Set<string>): void {
    const listed = new Set(list.items.map((t) => t.metadata.name));
    let differences = 0;
    for (const task of list.items) {
      const known = this.tasks.get(task.metadata.name);
      if (known?.metadata.resourceVersion === task.metadata.resourceVersion) continue;
      changed.add(task.metadata.name);
      differences++;
      this.apply(known ? 'MODIFIED' : 'ADDED', task, false);
    }
    for (const [name, known] of [...this.tasks]) {
      if (listed.has(name)) continue;
      changed.add(name);
      differences++;
      this.apply('DELETED', known, false);
    }
    this.resourceVersion = list.resourceVersion;
    if (differences === 0) return;
    this.check(`a list during an outage (${differences} tasks changed unseen)`);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** From now on every event is also checked against the rolling update's floor and ceiling. */
  checkBounds(bounds: Bounds): void {
    const ceiling = Math.floor((bounds.maximumPercent * bounds.desiredCount) / 100);
    const floor = Math.ceil((bounds.minimumHealthyPercent * bounds.desiredCount) / 100);
    this.bounds = { perDeployment: bounds.desiredCount, ceiling, floor };
    this.check('checkBounds');
  }

  /** From now on, until `checkBounds()` again, the bounds that hold through a fault that stops tasks (above). */
  checkBoundsThroughFault(bounds: Bounds): void {
    const ceiling = Math.floor((bounds.maximumPercent * bounds.desiredCount) / 100);
    this.bounds = { perDeployment: ceiling, ceiling, floor: 0 };
    this.check('checkBoundsThroughFault');
  }

  /**
   * From now on, until `checkBounds()` again, the bounds of a drain: the floor and the ceiling hold, and
   * a deployment's tasks on the draining instance count beside their replacements (within the ceiling),
   * since both belong to the one deployment. e.g. D 2, min 50 %, max 200 %: ≥ 1 healthy, ≤ 4 not STOPPED.
   * Only the service's own tasks count: the standalone tasks a drain lets finish are no part of its bounds.
   */
  checkBoundsThroughDrain(bounds: Bounds & { service: string }): void {
    const ceiling = Math.floor((bounds.maximumPercent * bounds.desiredCount) / 100);
    const floor = Math.ceil((bounds.minimumHealthyPercent * bounds.desiredCount) / 100);
    this.bounds = { perDeployment: ceiling, ceiling, floor, group: `service:${bounds.service}` };
    this.check('checkBoundsThroughDrain');
  }

  resetExtremes(): void {
    this.extremes = { maxNotStopped: 0, minHealthy: Infinity, maxLivePerDeployment: 0, events: 0 };
  }

  get seen(): Extremes {
    return { ...this.extremes };
  }

  /** Resolves once `predicate` holds after some event (or now); rejects after `timeoutMs` saying what was awaited. */
  until(predicate: () => boolean, what: string, timeoutMs: number, detail: () => string = () => this.summary()): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Tasks that are not STOPPED, optionally of one revision. */
  live(taskDefinition?: string): Task[] {
    return [...this.tasks.values()].filter(
      (t) => t.status?.lastStatus !== 'STOPPED' && (taskDefinition === undefined || t.spec.taskDefinition === taskDefinition),
    );
  }

  /** One line per state count, for failure messages. */
  summary(): string {
    const byState = new Map<string, number>();
    for (const t of this.tasks.values()) {
      const key = `${t.spec.taskDefinition} desired=${t.spec.desiredStatus} last=${t.status?.lastStatus ?? '-'} health=${t.status?.healthStatus ?? '-'}`;
      byState.set(key, (byState.get(key) ?? 0) + 1);
    }
    const states = [...byState.entries()].sort().map(([key, n]) => `  ${n} × ${key}`);
    return [`task ledger: ${this.events} events, ${this.tasks.size} tasks`, ...states, ...this.violations.slice(0, 5).map((v) => `  violation: ${v}`)].join(
      '\n',
    );
  }

  /**
   * Whether the API server accepts a Task watch: not while it is down, nor (429 "storage is (re)initializing")
   * until its Task watch cache is filled — while a list already answers, from etcd, at a version the cache,
   * once filled, may no longer serve a watch from (410).
   */
  private async acceptsWatch(): Promise<boolean> {
    try {
      const probe = await this.store.watch<Task>(taskType, this.namespace, { resourceVersion: '0' }, { onEvent: () => undefined, onClose: () => undefined });
      probe.stop();
      return true;
    } catch {
      return false;
    }
  }

  private async watchFrom(): Promise<void> {
    if (this.stopped) return;
    this.watch = await this.store.watch<Task>(
      taskType,
      this.namespace,
      { resourceVersion: this.resourceVersion },
      {
        onEvent: (event) => {
          this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
          this.apply(event.type, event.object);
        },
        onBookmark: (resourceVersion) => (this.resourceVersion = resourceVersion),
        onClose: (error) => {
          if (this.stopped || this.inOutage) return;
          if (error) {
            this.violation(`the Task watch failed (${error.message}): states after resourceVersion ${this.resourceVersion} were not observed`);
            return;
          }
          void this.watchFrom().catch((e: Error) => this.violation(`the Task watch could not be resumed: ${e.message}`));
        },
      },
    );
  }

  /** `checkNow` false: one of several changes that make up one state (a resync); the caller checks once after all. */
  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', task: Task, checkNow = true): void {
    this.events++;
    this.extremes.events++;
    const { name, uid } = task.metadata;
    const previousUid = this.uidOfName.get(name);
    const previousHolder = previousUid === undefined ? undefined : this.history.get(previousUid);
    // A name whose task STOPPED and was removed (the service keeps only the newest STOPPED tasks) is free again.
    const freed = previousHolder?.deleted === true && previousHolder.statuses[previousHolder.statuses.length - 1] === 'STOPPED';
    if (previousUid !== undefined && previousUid !== uid && !freed) this.violation(`task name ${name} reused: uid ${previousUid}, then ${uid}`);
    this.uidOfName.set(name, uid!);

    let history = this.history.get(uid!);
    if (!history) {
      history = { uid: uid!, name, deployment: task.spec.startedBy ?? '', taskDefinition: task.spec.taskDefinition, statuses: [], deleted: false };
      this.history.set(uid!, history);
    }
    const lastStatus = task.status?.lastStatus ?? '';
    const previous = history.statuses[history.statuses.length - 1];
    if (previous !== lastStatus) {
      if (previous !== undefined && rank(lastStatus) < rank(previous)) this.violation(`task ${name} went back from ${previous} to ${lastStatus}`);
      history.statuses.push(lastStatus);
    }
    if (lastStatus === 'STOPPED' && history.stopCode === undefined) {
      history.stopCode = task.status?.stopCode ?? '(none)';
      history.stoppedReason = task.status?.stoppedReason ?? '';
    }

    if (type === 'DELETED') {
      history.deleted = true;
      this.tasks.delete(name);
    } else {
      this.tasks.set(name, task);
    }
    if (!checkNow) return;
    this.check(`${type} ${name} (${task.spec.taskDefinition} ${task.spec.desiredStatus}/${lastStatus || '-'})`);
    for (const waiter of [...this.waiters]) waiter();
  }

  private check(after: string): void {
    let notStopped = 0;
    let healthy = 0;
    const livePerDeployment = new Map<string, number>();
    for (const t of this.tasks.values()) {
      if (t.status?.lastStatus === 'STOPPED') continue;
      if (this.bounds?.group !== undefined && t.spec.group !== this.bounds.group) continue;
      notStopped++;
      if (t.status?.lastStatus === 'RUNNING' && t.spec.desiredStatus === 'RUNNING' && t.status.healthStatus !== 'UNHEALTHY') healthy++;
      const deployment = t.spec.startedBy ?? '';
      livePerDeployment.set(deployment, (livePerDeployment.get(deployment) ?? 0) + 1);
    }
    const maxPerDeployment = Math.max(0, ...livePerDeployment.values());
    this.extremes.maxNotStopped = Math.max(this.extremes.maxNotStopped, notStopped);
    this.extremes.maxLivePerDeployment = Math.max(this.extremes.maxLivePerDeployment, maxPerDeployment);
    if (!this.bounds) return;
    this.extremes.minHealthy = Math.min(this.extremes.minHealthy, healthy);
    const { ceiling, floor, perDeployment } = this.bounds;
    const at = `at event ${this.events}, after ${after}`;
    if (notStopped > ceiling) this.violation(`${notStopped} tasks not STOPPED > ceiling ${ceiling} ${at}`);
    if (healthy < floor) this.violation(`${healthy} tasks RUNNING and healthy < floor ${floor} ${at}`);
    for (const [deployment, live] of livePerDeployment) {
      if (live > perDeployment) this.violation(`deployment ${deployment} has ${live} tasks not STOPPED > ${perDeployment} ${at}`);
    }
  }

  private violation(message: string): void {
    this.violationCount++;
    if (this.violations.length < maxKeptViolations) this.violations.push(message);
  }
}

function rank(lastStatus: string): number {
  return lastStatus === '' ? -1 : taskStatusOrder.indexOf(lastStatus as (typeof taskStatusOrder)[number]);
}
