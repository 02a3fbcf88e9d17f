// Every state the API server's Tasks of one namespace pass through, as the test process sees them: one
// raw watch (not an informer, which would relist and diff after a gap and so skip states), each event
// applied in resourceVersion order. After each event the ledger holds exactly what etcd held at that
// revision, and the invariants of a rolling update are checked against it:
//
//   ceiling    tasks not STOPPED (those stopping too: they still hold their resources) ≤ floor(max% × D / 100)
//   floor      RUNNING-and-healthy tasks ≥ ceil(min% × D / 100), counted as the service scheduler counts
//              them: lastStatus RUNNING, desiredStatus RUNNING, health not UNHEALTHY
//   per deployment   tasks not STOPPED of one deployment (startedBy) ≤ D
//   names      a task name is held by one uid, ever: a name is never reused for a second task
//   lifecycle  a task's lastStatus never moves backwards (PROVISIONING … STOPPED)
//
// The floor and ceiling are checked from `checkBounds()` on (once the service first reached a steady
// state), the others from the start. Through a fault that stops running tasks (`checkBoundsThroughFault()`)
// the floor is not judged (the fault itself takes tasks below it), and a deployment may hold D tasks
// besides those still stopping (the service replaces a failed task once it is asked to stop, as far as
// the ceiling allows): its bound there is the ceiling. e.g. D 3, max 200 %: 3 + 3 stopping ≤ 6. A watch that ends with an error (e.g. 410 Gone) is a gap in what was
// observed, and is itself a violation: the ledger never claims states it did not see.
import { KubeConfig } from '@kubernetes/client-node';
import { tasks as taskType, type Task } from '../../../src/api';
import { taskStatusOrder } from '../../../src/controllers/task/lifecycle';
import { KubeStore } from '../../../src/store/kube/kube-store';
import type { Watch } from '../../../src/store/object-store';
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
  private bounds: { perDeployment: number; ceiling: number; floor: number } | undefined;
  private extremes: Extremes = { maxNotStopped: 0, minHealthy: Infinity, maxLivePerDeployment: 0, events: 0 };
  private watch: Watch | undefined;
  private resourceVersion = '';
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private readonly store: KubeStore;

  constructor(private readonly namespace: string) {
    const config = new KubeConfig();
    config.loadFromFile(testEnv().kubeconfig);
    // One long watch: a server-side timeout only means watching again from the last version seen.
    this.store = new KubeStore(config, { watchTimeoutSeconds: 3600 });
  }

  async start(): Promise<void> {
    const list = await this.store.list<Task>(taskType, this.namespace);
    for (const task of list.items) this.apply('ADDED', task);
    this.resourceVersion = list.resourceVersion;
    await this.watchFrom();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
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
          if (this.stopped) return;
          if (error) {
            this.violation(`the Task watch failed (${error.message}): states after resourceVersion ${this.resourceVersion} were not observed`);
            return;
          }
          void this.watchFrom().catch((e: Error) => this.violation(`the Task watch could not be resumed: ${e.message}`));
        },
      },
    );
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', task: Task): void {
    this.events++;
    this.extremes.events++;
    const { name, uid } = task.metadata;
    const previousUid = this.uidOfName.get(name);
    if (previousUid !== undefined && previousUid !== uid) this.violation(`task name ${name} reused: uid ${previousUid}, then ${uid}`);
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
    this.check(`${type} ${name} (${task.spec.taskDefinition} ${task.spec.desiredStatus}/${lastStatus || '-'})`);
    for (const waiter of [...this.waiters]) waiter();
  }

  private check(after: string): void {
    let notStopped = 0;
    let healthy = 0;
    const livePerDeployment = new Map<string, number>();
    for (const t of this.tasks.values()) {
      if (t.status?.lastStatus === 'STOPPED') continue;
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
