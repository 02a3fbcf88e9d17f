/**
 * The TaskRuntime on a real Docker engine. The engine is the record: every container carries labels
 * naming its task, instance and the task's layout, and has a deterministic name, so any instance of
 * this class (a restarted agent included) reads the same state and can never create a container twice.
 * The only state kept in memory is what leaves no trace on the engine: launch failures before a
 * container existed (pull, volume, create errors), pull times, and that a stop was asked for.
 */
import type Dockerode from 'dockerode';
import type { ContainerDefinition } from '../../../api';
import { realClock, type Clock } from '../../../runtime/clock';
import { silentLogger, type Logger } from '../../../runtime/logger';
import { taskLabels, type TaskLaunch, type TaskObservation, type TaskRuntime, type CumulativeUsage } from '../../task-runtime';
import { startOrder, stopWaves } from '../container-order';
import { evaluateGate } from '../dependency-gate';
import { taskLayout, type TaskLayout } from '../task-layout';
import { watchContainerEvents } from './container-events';
import { containerCreateOptions, ecsCpuShares, type CpuUnitsToShares } from './container-spec';
import { isTransportError, statusCode, tolerating } from './engine-errors';
import { ensureImage } from './images';
import { labelFilter, layoutFromLabels } from './labels';
import type { TaskIdentity } from './names';
import { neverStarted, taskObservation, type TaskFacts } from './observation';
import { KeyedSerializer } from './keyed-serializer';
import { launchScrubber } from './secret-scrubber';
import { taskUsage, type EngineStats } from './usage';
import { volumePlans, type VolumePlan } from './volumes';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  /** The ContainerInstance this runtime serves; its containers carry it as a label. */
  containerInstance: string;
  /** Defaults to the ECS agent's mapping, max(2, cpu). */
  cpuUnitsToShares?: CpuUnitsToShares;
  logger?: Logger;
  /** For the event stream's reconnect backoff and the pull timestamps. */
  clock?: Clock;
}

/** Docker's default grace period, which ECS also uses when stopTimeout is not set. */
const defaultStopTimeoutSeconds = 30;

interface TaskRecord {
  identity: TaskIdentity;
  layout: TaskLayout;
  launchFailures: Map<string, string>;
  /** Containers this process created: one that later vanishes from the engine was removed behind Berth's back. */
  created: Set<string>;
  stopRequested: boolean;
  pullStartedAt?: string;
  pullStoppedAt?: string;
}

type Inspections = Map<string, Dockerode.ContainerInspectInfo>;
const emptyInspections = (): Inspections => new Map();

export class DockerRuntime implements TaskRuntime {
  private readonly docker: Dockerode;
  private readonly containerInstance: string;
  private readonly cpuUnitsToShares: CpuUnitsToShares;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly records = new Map<string, TaskRecord>();
  private readonly perTask = new KeyedSerializer();

  constructor(options: DockerRuntimeOptions) {
    this.docker = options.docker;
    this.containerInstance = options.containerInstance;
    this.cpuUnitsToShares = options.cpuUnitsToShares ?? ecsCpuShares;
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? realClock;
  }

  ensureRunning(launch: TaskLaunch): Promise<TaskObservation> {
    // The instance label is what list() and watch() filter on, so it must be this runtime's own scope,
    // which is unique per engine (an instance name alone is only unique per namespace).
    const scoped = { ...launch, containerInstance: this.containerInstance };
    return this.perTask.run(launch.taskUid, () => this.stepTowardsRunning(scoped));
  }

  stop(taskUid: string, stopTimeouts: Record<string, number | undefined>): Promise<void> {
    return this.perTask.run(taskUid, () => this.stopTask(taskUid, stopTimeouts));
  }

  remove(taskUid: string): Promise<void> {
    return this.perTask.run(taskUid, () => this.removeTask(taskUid));
  }

  async observe(taskUid: string): Promise<TaskObservation | undefined> {
    const inspections = await this.inspect([labelFilter(taskLabels.taskUid, taskUid)]);
    const facts = this.factsOf(taskUid, inspections.get(taskUid) ?? emptyInspections());
    return facts && taskObservation(facts);
  }

  async list(): Promise<TaskObservation[]> {
    const byTask = await this.inspect([]);
    const taskUids = new Set([...byTask.keys(), ...this.records.keys()]);
    return [...taskUids].flatMap((uid) => {
      const facts = this.factsOf(uid, byTask.get(uid) ?? emptyInspections());
      return facts ? [taskObservation(facts)] : [];
    });
  }

  watch(onChange: (taskUid: string) => void): { stop(): void } {
    return watchContainerEvents({
      docker: this.docker,
      containerInstance: this.containerInstance,
      clock: this.clock,
      logger: this.logger,
      onChange,
    });
  }

  async version(): Promise<string> {
    return (await this.docker.version()).Version;
  }

  /** The containers' writable layers (SizeRw), as `docker ps --size` reports them; the engine computes it on request. */
  async ephemeralStorageUsed(taskUid: string): Promise<number> {
    const filters = [labelFilter(taskLabels.containerInstance, this.containerInstance), labelFilter(taskLabels.taskUid, taskUid)];
    const containers = await this.docker.listContainers({ all: true, size: true, filters: { label: filters } });
    return containers.reduce((total, container) => total + ((container as { SizeRw?: number }).SizeRw ?? 0), 0);
  }

  /**
   * The stats of the task's running containers, read in parallel and summed (usage.ts). Listing without
   * `all` gives running containers only. One-shot stats (Engine API 1.41+) read the cgroup once; without it a
   * stream=false read waits a second for a second sample, which only the CLI's CPU percentage needs, not the
   * cumulative counters. An older engine ignores the parameter and answers that second later.
   */
  async usage(taskUid: string): Promise<CumulativeUsage | undefined> {
    const filters = [labelFilter(taskLabels.containerInstance, this.containerInstance), labelFilter(taskLabels.taskUid, taskUid)];
    const running = await this.docker.listContainers({ filters: { label: filters } });
    const answers = await Promise.all(running.map((c) => this.statsOf(c.Id)));
    const stats = answers.filter((answer) => answer !== undefined);
    return taskUsage(stats, this.clock.now());
  }

  /** Creates and starts, in dependency order, every container whose dependencies allow it now. */
  private async stepTowardsRunning(launch: TaskLaunch): Promise<TaskObservation> {
    const record = this.recordFor(launch);
    const inspections = (await this.inspect([labelFilter(taskLabels.taskUid, launch.taskUid)])).get(launch.taskUid) ?? emptyInspections();
    const facts = (): TaskFacts => this.factsOf(launch.taskUid, inspections)!;
    if (record.stopRequested) return taskObservation(facts());

    const volumes = volumePlans(launch);
    const log = this.taskLogger(launch);
    for (const name of startOrder(record.layout)) {
      const observations = taskObservation(facts()).containers;
      const current = observations.find((c) => c.name === name)!;
      if (current.lastStatus !== 'PENDING' && current.lastStatus !== 'CREATED') continue;
      const layoutContainer = record.layout.containers.find((c) => c.name === name)!;
      const gate = evaluateGate(layoutContainer, record.layout, (dependency) => observations.find((c) => c.name === dependency));
      if (gate.kind !== 'open') continue;

      const definition = launch.spec.containerDefinitions.find((c) => c.name === name)!;
      const id = current.runtimeId ?? (await this.create(launch, definition, record, volumes, log));
      if (id === undefined) continue;
      // Checked on a fresh inspection right before starting: starting an exited container would run it again.
      const beforeStart = await this.inspectContainer(id);
      if (beforeStart && neverStarted(beforeStart)) await this.start(id, name, log, launch);
      const inspection = await this.inspectContainer(id);
      if (inspection) inspections.set(name, inspection);
    }
    return taskObservation(facts());
  }

  /** Pulls, provisions volumes and creates; returns the container id, or undefined after recording why not. */
  private async create(
    launch: TaskLaunch,
    definition: ContainerDefinition,
    record: TaskRecord,
    volumes: Map<string, VolumePlan>,
    log: Logger,
  ): Promise<string | undefined> {
    const name = definition.name;
    const failed = (kind: string, error: unknown): undefined => {
      if (isTransportError(error)) throw error; // the engine is unreachable: not the container's fault, retry later
      // A refused create echoes what it refused (`invalid environment variable: =NAME=<value>`); the
      // scrubber is built only here, on a failure, not on every step of every task.
      const reason = `${kind}: ${launchScrubber(launch).scrub((error as Error).message)}`;
      record.launchFailures.set(name, reason);
      log.warn('container failed to launch', { container: name, reason });
      return undefined;
    };

    try {
      await this.ensureVolumes(definition, volumes);
    } catch (error) {
      return failed('CannotCreateVolumeError', error);
    }

    record.pullStartedAt ??= new Date(this.clock.now()).toISOString();
    try {
      const presence = await ensureImage(this.docker, definition.image, launch.registryAuth[name]);
      if (presence === 'pulled') log.info('pulled image', { container: name, image: definition.image });
    } catch (error) {
      return failed('CannotPullContainerError', error);
    }
    record.pullStoppedAt = new Date(this.clock.now()).toISOString();

    const options = containerCreateOptions({ launch, definition, layout: record.layout, volumes, cpuUnitsToShares: this.cpuUnitsToShares });
    try {
      const container = await this.docker.createContainer(options);
      record.created.add(name);
      log.info('created container', { container: name, dockerName: options.name, image: definition.image });
      return container.id;
    } catch (error) {
      if (statusCode(error) === 409) return this.adoptOnNameConflict(launch.taskUid, options.name!, name, record);
      return failed('CannotCreateContainerError', error);
    }
  }

  /**
   * The name is taken. When it is this task's container (a concurrent or interrupted create), carry on
   * with it; when it belongs to another task (an old task of the same name not yet removed), wait: the
   * agent removes containers whose task is gone.
   */
  private async adoptOnNameConflict(taskUid: string, dockerName: string, name: string, record: TaskRecord): Promise<string> {
    const holder = await this.inspectContainer(dockerName);
    const holderTask = holder?.Config.Labels?.[taskLabels.taskUid];
    if (holder && holderTask === taskUid) {
      record.created.add(name);
      return holder.Id;
    }
    throw new Error(`container name ${dockerName} is held by ${holderTask ? `a container of task ${holderTask}` : 'a container Berth did not create'}`);
  }

  private async start(id: string, name: string, log: Logger, launch: TaskLaunch): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
      log.info('started container', { container: name });
    } catch (error) {
      if (statusCode(error) === 304) return; // already started
      if (isTransportError(error)) throw error;
      // The engine records a failed start on the container itself (State.Error), which observations report.
      log.warn('container failed to start', { container: name, error: launchScrubber(launch).scrub((error as Error).message) });
    }
  }

  private async ensureVolumes(definition: ContainerDefinition, volumes: Map<string, VolumePlan>): Promise<void> {
    for (const mountPoint of definition.mountPoints ?? []) {
      const plan = volumes.get(mountPoint.sourceVolume);
      if (plan?.kind !== 'docker') continue;
      if (plan.scope === 'shared' && !plan.autoprovision) {
        await this.docker.getVolume(plan.dockerName).inspect();
        continue;
      }
      // Creating an existing volume with the same driver is a no-op on the engine, so this is idempotent.
      await this.docker.createVolume({
        Name: plan.dockerName,
        ...(plan.driver !== undefined && { Driver: plan.driver }),
        ...(plan.driverOpts !== undefined && { DriverOpts: plan.driverOpts }),
        Labels: plan.labels,
      });
    }
  }

  private async stopTask(taskUid: string, stopTimeouts: Record<string, number | undefined>): Promise<void> {
    const record = this.records.get(taskUid);
    if (record) record.stopRequested = true;
    const inspections = (await this.inspect([labelFilter(taskLabels.taskUid, taskUid)])).get(taskUid) ?? emptyInspections();
    const layout = this.factsOf(taskUid, inspections)?.layout;
    if (!layout) return;
    const running = [...inspections].filter(([, i]) => i.State.Running).map(([name]) => name);
    for (const wave of stopWaves(layout, running)) {
      await Promise.all(
        wave.map(async (name) => {
          const inspection = inspections.get(name)!;
          const t = stopTimeouts[name] ?? (inspection.Config as { StopTimeout?: number }).StopTimeout ?? defaultStopTimeoutSeconds;
          this.logger.info('stopping container', { taskUid, container: name, stopTimeoutSeconds: t });
          await tolerating([304, 404], () => this.docker.getContainer(inspection.Id).stop({ t }));
        }),
      );
    }
  }

  private async removeTask(taskUid: string): Promise<void> {
    const filters = [labelFilter(taskLabels.containerInstance, this.containerInstance), labelFilter(taskLabels.taskUid, taskUid)];
    const containers = await this.docker.listContainers({ all: true, filters: { label: filters } });
    // v: anonymous volumes of the image (VOLUME lines) belong to the container and go with it.
    await Promise.all(containers.map((c) => tolerating([404], () => this.docker.getContainer(c.Id).remove({ force: true, v: true }))));
    const { Volumes: volumes } = await this.docker.listVolumes({ filters: { label: filters } });
    await Promise.all((volumes ?? []).map((v) => tolerating([404], () => this.docker.getVolume(v.Name).remove())));
    this.records.delete(taskUid);
    this.logger.info('removed task containers', { taskUid, containers: containers.length, volumes: volumes?.length ?? 0 });
  }

  /** Inspections of this instance's containers matching `labels`, by task uid, then by container name. */
  private async inspect(labels: string[]): Promise<Map<string, Inspections>> {
    const label = [labelFilter(taskLabels.containerInstance, this.containerInstance), ...labels];
    const listed = await this.docker.listContainers({ all: true, filters: { label } });
    const inspections = await Promise.all(listed.map((c) => this.inspectContainer(c.Id)));
    const byTask = new Map<string, Inspections>();
    for (const inspection of inspections) {
      const labelsOf = inspection?.Config.Labels ?? {};
      const taskUid = labelsOf[taskLabels.taskUid];
      const name = labelsOf[taskLabels.containerName];
      if (!inspection || taskUid === undefined || name === undefined) continue;
      if (!byTask.has(taskUid)) byTask.set(taskUid, new Map());
      byTask.get(taskUid)!.set(name, inspection);
    }
    return byTask;
  }

  /** undefined when the container is gone (removed between listing and inspecting). */
  private async inspectContainer(idOrName: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * undefined when the container was removed since it was listed (404); one that only stopped answers with
   * the engine's empty stats, which usage.ts skips.
   */
  private async statsOf(id: string): Promise<EngineStats | undefined> {
    try {
      return await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true });
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Everything known of a task; undefined when neither the engine nor this process knows it. */
  private factsOf(taskUid: string, inspections: Inspections): TaskFacts | undefined {
    const record = this.records.get(taskUid);
    const anyLabels = inspections.values().next().value?.Config.Labels;
    const identity: TaskIdentity | undefined =
      record?.identity ?? (anyLabels && { namespace: anyLabels[taskLabels.namespace] ?? '', taskName: anyLabels[taskLabels.taskName] ?? '', taskUid });
    if (!identity) return undefined;
    const layout = record?.layout ?? layoutFromLabels(anyLabels) ?? layoutOfUnlabelled([...inspections.keys()]);
    const launchFailures = new Map(record?.launchFailures);
    for (const name of record?.created ?? []) {
      if (!inspections.has(name)) launchFailures.set(name, 'ContainerRemoved: the container was removed from the engine outside Berth');
    }
    return {
      ...identity,
      layout,
      inspections,
      launchFailures,
      stopRequested: record?.stopRequested ?? false,
      ...(record?.pullStartedAt !== undefined && { pullStartedAt: record.pullStartedAt }),
      ...(record?.pullStoppedAt !== undefined && { pullStoppedAt: record.pullStoppedAt }),
    };
  }

  private recordFor(launch: TaskLaunch): TaskRecord {
    let record = this.records.get(launch.taskUid);
    if (!record) {
      record = {
        identity: { namespace: launch.namespace, taskName: launch.taskName, taskUid: launch.taskUid },
        layout: taskLayout(launch.spec),
        launchFailures: new Map(),
        created: new Set(),
        stopRequested: false,
      };
      this.records.set(launch.taskUid, record);
    }
    return record;
  }

  private taskLogger(launch: TaskLaunch): Logger {
    return this.logger.child({ taskUid: launch.taskUid, namespace: launch.namespace, taskName: launch.taskName });
  }
}

/** Containers without Berth's layout label (should not happen): each stands alone. */
function layoutOfUnlabelled(names: string[]): TaskLayout {
  return { networkMode: 'bridge', containers: names.map((name) => ({ name, dependencies: [], hasHealthCheck: false, ports: [] })) };
}
