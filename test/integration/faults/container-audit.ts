// Docker's own view of a namespace's containers, sampled while operators are killed and restarted, and
// judged against the Tasks the API server holds (the TaskLedger), never against Berth's status reports.
//
// A sample is one `docker ps -a` (a consistent list), taken after every container event of the namespace
// on the engine's event stream (create, start, health_status, die, destroy, …: every change of the list),
// and whenever a test asks. Events that arrive while a sample is being taken make one more sample after
// it. The ledger's state is taken just before each list, so a Task seen STOPPED was STOPPED before the
// list was made. At every sample:
//   - no two containers, running or not, for one (task uid, container name): no container duplicated;
//   - no more running containers for one task uid than its task definition has containers;
//   - no running container of a task already STOPPED: the agent reports STOPPED only once the containers
//     have exited, so a running one after that was started again, or never stopped.
// At the end of a round (`withoutTask()`): every container belongs to a Task that exists, live or STOPPED
// and not yet removed, except exited containers of a Task the ledger saw deleted: those are the agent's
// orphan sweep's to remove (every 30 s), which the suite checks once, at its end.
// Every container ever seen must belong to a Task the ledger saw: none is created for a task that never was.
// No container is started twice (two `start` events for one container id): a container that exited is
// never run again for its task (the agent replaces the task instead).
// An event stream that fails is a gap in what was observed, and is itself a violation — but for an engine
// the suite itself stops (`engineStopping()`): the stream is followed again from the restarted engine's
// first event (`engineStarted(since)`), so nothing the new engine did is missed.
import type Dockerode from 'dockerode';
import { taskLabels } from '../../../src/agent/task-runtime';
import type { TaskLedger } from './task-ledger';

const maxKeptViolations = 25;

/** One line of the engine's event stream: a container's labels come as the actor's attributes. */
interface DockerEvent {
  Action?: string;
  id?: string;
  Actor?: { Attributes?: Record<string, string> };
}

export class ContainerAudit {
  readonly violations: string[] = [];
  violationCount = 0;
  samples = 0;
  /** Every task uid a container was ever seen for (listed, or its `create` event), with one of its container names. */
  readonly seenUids = new Map<string, string>();
  /** `start` events by container id. */
  readonly starts = new Map<string, number>();
  /** Task uids a `start` event was seen for: whether a task ever ran, even once its containers are swept. */
  readonly startedTasks = new Set<string>();
  private stopped = false;
  /** The engine is down on purpose: its stream's end is expected, and there is nothing to sample. */
  private engineDown = false;
  /** The engine's event stream (an HTTP response: destroying it ends the request). */
  private events: (NodeJS.ReadableStream & { destroy?(): void }) | undefined;
  private sampling: Promise<void> | undefined;
  private sampleAgain = false;

  constructor(
    private readonly docker: Dockerode,
    private readonly namespace: string,
    private readonly ledger: TaskLedger,
    private readonly containersPerTask: number,
  ) {}

  /** Follows the engine's container events of the namespace, sampling after each; resolves once following. */
  async start(): Promise<void> {
    await this.follow();
    await this.sample();
  }

  /**
   * The suite is about to stop the engine: sampling pauses, and the stream's end is no gap. The stream is
   * followed to its end, so that what the engine did while shutting down (starts included) is counted.
   */
  async engineStopping(): Promise<void> {
    this.engineDown = true;
    await this.sampling;
  }

  /** The engine answers again: follows it from `since` (Unix seconds, taken before it started), and samples. */
  async engineStarted(since: number): Promise<void> {
    this.engineDown = false;
    await this.follow(since);
    await this.sample();
  }

  private async follow(since?: number): Promise<void> {
    const filters = { type: ['container' as const], label: [`${taskLabels.namespace}=${this.namespace}`] };
    const events = await this.docker.getEvents(since === undefined ? { filters } : { since, filters });
    this.events = events;
    let buffered = '';
    events.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) this.record(JSON.parse(line) as DockerEvent);
      this.sampleSoon();
    });
    const ended = (why: string) => {
      if (!this.stopped && !this.engineDown && this.events === events)
        this.violation(`the Docker event stream ${why}: later container states were not observed`);
    };
    events.on('error', (error: Error) => ended(`failed (${error.message})`));
    events.on('end', () => ended('ended'));
  }

  /** A container created is a task seen (even if it is removed before the next sample); a start is counted. */
  private record(event: DockerEvent): void {
    const labels = event.Actor?.Attributes ?? {};
    const uid = labels[taskLabels.taskUid];
    if (event.Action === 'create' && uid !== undefined && !this.seenUids.has(uid)) {
      this.seenUids.set(uid, `${labels[taskLabels.taskName]}/${labels[taskLabels.containerName]}`);
    }
    if (event.Action !== 'start' || event.id === undefined) return;
    if (uid !== undefined) this.startedTasks.add(uid);
    const starts = (this.starts.get(event.id) ?? 0) + 1;
    this.starts.set(event.id, starts);
    if (starts > 1) this.violation(`container ${event.id.slice(0, 12)} started ${starts} times`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.events?.destroy?.();
    await this.sampling;
  }

  private sampleSoon(): void {
    if (this.stopped || this.engineDown) return;
    if (this.sampling) {
      this.sampleAgain = true;
      return;
    }
    this.sampling = (async () => {
      do {
        this.sampleAgain = false;
        await this.sample();
      } while (this.sampleAgain && !this.stopped && !this.engineDown);
      this.sampling = undefined;
    })();
  }

  /** Every container of the namespace, running or not. */
  list(): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`${taskLabels.namespace}=${this.namespace}`] } });
  }

  /** One sample, judged as described above; also what a test can call to judge the state it waited for. */
  async sample(): Promise<Dockerode.ContainerInfo[]> {
    const stoppedBefore = new Set([...this.ledger.tasks.values()].filter((t) => t.status?.lastStatus === 'STOPPED').map((t) => t.metadata.uid!));
    let containers: Dockerode.ContainerInfo[];
    try {
      containers = await this.list();
    } catch (error) {
      this.violation(`docker ps failed: ${(error as Error).message}`);
      return [];
    }
    this.samples++;
    const byTaskContainer = new Map<string, string[]>();
    const runningByTask = new Map<string, number>();
    for (const c of containers) {
      const uid = c.Labels[taskLabels.taskUid] ?? '(no uid)';
      const name = c.Labels[taskLabels.containerName] ?? '(no name)';
      if (!this.seenUids.has(uid)) this.seenUids.set(uid, `${c.Labels[taskLabels.taskName]}/${name}`);
      const key = `${uid}/${name}`;
      byTaskContainer.set(key, [...(byTaskContainer.get(key) ?? []), `${c.Names[0]} (${c.State})`]);
      if (c.State === 'running') {
        runningByTask.set(uid, (runningByTask.get(uid) ?? 0) + 1);
        if (stoppedBefore.has(uid)) this.violation(`container ${c.Names[0]} runs while its task ${c.Labels[taskLabels.taskName]} is STOPPED`);
      }
    }
    for (const [key, names] of byTaskContainer) if (names.length > 1) this.violation(`two containers for ${key}: ${names.join(', ')}`);
    for (const [uid, running] of runningByTask) {
      if (running > this.containersPerTask) this.violation(`${running} running containers for task uid ${uid}, whose definition has ${this.containersPerTask}`);
    }
    return containers;
  }

  /**
   * Containers the ledger shows no Task for but whose Task it saw deleted and that do not run: what the
   * agent's orphan sweep (every 30 s) is there to remove. Anything else without a Task is an orphan.
   */
  async withoutTask(): Promise<{ awaitingSweep: string[]; orphans: string[] }> {
    const existing = new Set([...this.ledger.tasks.values()].map((t) => t.metadata.uid!));
    const containers = (await this.list()).filter((c) => !existing.has(c.Labels[taskLabels.taskUid] ?? ''));
    const awaitingSweep = (c: Dockerode.ContainerInfo) =>
      c.State !== 'running' && this.ledger.history.get(c.Labels[taskLabels.taskUid] ?? '')?.deleted === true;
    const describe = (c: Dockerode.ContainerInfo) => `${c.Names[0]} (${c.State}, task ${c.Labels[taskLabels.taskName]})`;
    return { awaitingSweep: containers.filter(awaitingSweep).map(describe), orphans: containers.filter((c) => !awaitingSweep(c)).map(describe) };
  }

  /** Containers ever seen for a task uid the ledger never saw. */
  unknownTasks(): string[] {
    return [...this.seenUids.entries()].filter(([uid]) => !this.ledger.history.has(uid)).map(([uid, what]) => `${what} uid=${uid}`);
  }

  private violation(message: string): void {
    this.violationCount++;
    if (this.violations.length < maxKeptViolations) this.violations.push(message);
  }
}

/** One line per container, for failure messages. */
export function describeContainers(containers: Dockerode.ContainerInfo[]): string {
  return containers
    .map((c) => `${c.Names[0]} ${c.State} ${c.Labels[taskLabels.taskDefinition]} task=${c.Labels[taskLabels.taskName]} uid=${c.Labels[taskLabels.taskUid]}`)
    .join('\n');
}
