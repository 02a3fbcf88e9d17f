import {
  clusters as clusterType,
  containerInstances as instanceType,
  fargateCapacityProvider,
  services as serviceType,
  tasks as taskType,
  type Cluster,
  type ContainerInstance,
  type Service,
  type Task,
} from '../api';
import { TaskIndex } from '../ecs/indexes';
import type { ControllerRevision } from '../ecs/revisions/revisions';
import type { Clock, TimerHandle } from '../runtime/clock';
import { realClock } from '../runtime/clock';
import type { SharedInformer } from '../runtime/informer';
import type { Logger } from '../runtime/logger';
import type { Manager } from '../runtime/manager';
import { MutationCache } from '../runtime/mutation-cache';
import { configMaps, controllerRevisions, secrets } from '../store/builtin-types';
import { fargateSeat, type FargatePoolKind, type FargateSeatOptions } from './fargate-seat';
import { fargateProfileAnnotation } from '../ecs/compatibility';
import type { PodScheduling } from './runtime/kubernetes/pod-spec';
import { InstanceAgent, instanceSeat, referenceOwner, type AgentContext } from './instance-agent';
import { instanceLeaseDurationSeconds, instanceLeaseRenewIntervalMs } from './instance-lease';
import type { TaskLaunch, TaskRuntime } from './task-runtime';

/**
 * Runs the in-process agents of one operator process: one InstanceAgent per container instance it
 * hosts (a slice of the local Docker engine, or a simulated engine). Like the ECS agent, each runs the
 * tasks bound and admitted to its instance, reports their state in Task status, renews its instance's
 * heartbeat Lease, and cleans up containers whose Task is gone. A restarted agent re-adopts what the
 * engine runs: the runtime finds containers by their labels, so nothing is started twice.
 *
 * Task events are routed to the agent of the task's instance through an index (instance → tasks and
 * uid → task), never by scanning every task.
 */

export interface AgentHostOptions {
  manager: Manager;
  /** Address container ports are published on. */
  publishAddress?: string;
  /** How often each instance renews its Lease. Default 10 s (kubelet's node lease renewal). */
  leaseRenewIntervalMs?: number;
  /** How long a renewal holds. Default 40 s (kubelet's node lease duration). */
  leaseDurationSeconds?: number;
  /** Instance status (what is left, what runs) is written at most this often. Default 10 s. */
  statusReportIntervalMs?: number;
  /** How often to look for containers whose Task is gone. */
  sweepIntervalMs?: number;
  /** How often RUNNING tasks of auto-scaled services report what they use. Default 60 s (ECS's metric period). */
  metricsPeriodMs?: number;
  clock?: Clock;
  namespace?: string;
  /** Serve this one instance only (berth agent): its informer then holds that instance, not the namespace's. */
  instanceName?: string;
  /**
   * The engine of the clusters' Fargate pools (given its scope, as an instance's runtime is): with it,
   * this host runs every cluster's FARGATE tasks once its controllers run (the leader only). Without it
   * (berth agent), it runs none.
   */
  fargateRuntime?: (scope: string) => TaskRuntime;
  /**
   * The runtime of a cluster's Fargate tasks that run as Pods (those a profile with pod settings selected),
   * given the pool's identity and each launch's scheduling: with it (berth operator on a cluster) they run as
   * unbound Pods; without it they run on `fargateRuntime` like the others.
   */
  fargatePods?: (pool: { namespace: string; cluster: string; uid: string }, scheduling: (launch: TaskLaunch) => PodScheduling) => TaskRuntime;
  /** How Fargate tasks' ephemeral storage is measured; every 10 s, in GiB of 2^30 bytes, by default. */
  fargateStorage?: Partial<FargateSeatOptions>;
}

export class AgentHost {
  private readonly agents = new Map<string, InstanceAgent>();
  private readonly context: AgentContext;
  private readonly tasks: SharedInformer<Task>;
  private readonly taskIndex: TaskIndex;
  private readonly clusters: SharedInformer<Cluster> | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly sweepIntervalMs: number;
  private sweepTimer: TimerHandle | undefined;
  private fargateEnabled = false;
  private stopped = false;

  constructor(private readonly options: AgentHostOptions) {
    const { manager, namespace } = options;
    this.clock = options.clock ?? realClock;
    this.log = manager.logger.child({ component: 'agent' });
    this.sweepIntervalMs = options.sweepIntervalMs ?? 30_000;
    this.tasks = manager.informerFor<Task>(taskType, namespace);
    this.taskIndex = new TaskIndex(this.tasks);
    const revisions = manager.informerFor<ControllerRevision>(controllerRevisions, namespace);
    const instances = manager.informerFor<ContainerInstance>(
      instanceType,
      namespace,
      options.instanceName ? { fieldSelector: `metadata.name=${options.instanceName}` } : {},
    );
    // Only a host with Fargate pools reads Clusters (berth agent's credentials do not list them).
    this.clusters = options.fargateRuntime || options.fargatePods ? manager.informerFor<Cluster>(clusterType, namespace) : undefined;
    const services = manager.informerFor<Service>(serviceType, namespace);
    const read: { waitForSync(): Promise<boolean> }[] = [this.tasks, revisions, instances, services];
    this.context = {
      store: manager.store,
      events: manager.events,
      clock: this.clock,
      log: this.log,
      metrics: manager.metrics,
      identity: manager.identity,
      tasks: this.tasks,
      taskIndex: this.taskIndex,
      taskWrites: new MutationCache(this.tasks),
      revisions,
      instances,
      secrets: manager.referencedObjects(secrets),
      configMaps: manager.referencedObjects(configMaps),
      publishAddress: options.publishAddress ?? '127.0.0.1',
      cachesSynced: async () => (await Promise.all(read.map((informer) => informer.waitForSync()))).every(Boolean),
      statusReportIntervalMs: options.statusReportIntervalMs ?? 10_000,
      services,
      metricsPeriodMs: options.metricsPeriodMs ?? 60_000,
      leaseRenewIntervalMs: options.leaseRenewIntervalMs ?? instanceLeaseRenewIntervalMs,
      leaseDurationSeconds: options.leaseDurationSeconds ?? instanceLeaseDurationSeconds,
    };
    const route = (task: Task) => {
      const agent = task.spec.containerInstance
        ? this.agents.get(instanceId(task.metadata.namespace!, task.spec.containerInstance))
        : task.spec.capacityProviderName === fargateCapacityProvider
          ? this.fargatePool(task)
          : undefined;
      agent?.enqueue(task.metadata.name);
    };
    // Fargate pools run on the leader only, as the instance agents of managed groups do: they start with the controllers.
    if (options.fargateRuntime || options.fargatePods) {
      manager.onControllersStart(() => {
        this.fargateEnabled = true;
        for (const task of this.tasks.list()) if (task.spec.capacityProviderName === fargateCapacityProvider) route(task);
      });
    }
    this.tasks.addEventHandler({
      onAdd: route,
      onUpdate: (_old, task) => route(task),
      onDelete: (task) => {
        this.context.taskWrites.forget(task.metadata.namespace, task.metadata.name);
        this.context.secrets.setReferences(referenceOwner(task), []);
        this.context.configMaps.setReferences(referenceOwner(task), []);
        route(task);
      },
    });
  }

  /**
   * Starts serving an instance (the InstanceProvider's launch). `heartbeat: false` for a Node's instance,
   * whose connection is the Node's readiness rather than a Lease of Berth's.
   */
  attach(instance: ContainerInstance, runtime: TaskRuntime, options: { heartbeat?: boolean } = {}): Promise<void> {
    const id = instanceId(instance.metadata.namespace!, instance.metadata.name);
    // A controller still running while the host stops must not start an agent nobody would stop.
    if (this.stopped || this.agents.has(id)) return Promise.resolve();
    this.agents.set(id, new InstanceAgent(this.context, instanceSeat(this.context, instance, options.heartbeat ?? true), runtime));
    this.log.info('agent attached', { namespace: instance.metadata.namespace, name: instance.metadata.name });
    this.scheduleSweep();
    return Promise.resolve();
  }

  /**
   * The Fargate pool of the task's cluster, started with the first FARGATE task seen there. Its
   * runtime's scope names the cluster by uid, so a cluster deleted and created again under the same
   * name never adopts the old one's containers.
   */
  private fargatePool(task: Task): InstanceAgent | undefined {
    if (this.stopped || !this.fargateEnabled) return undefined;
    const kind = this.fargatePoolKind(task);
    const { fargateRuntime, fargatePods } = this.options;
    if (kind === 'engine' ? !fargateRuntime : !fargatePods) return undefined;
    const namespace = task.metadata.namespace!;
    const cluster = task.spec.cluster;
    const id = instanceId(namespace, `${fargateCapacityProvider}/${cluster}${kind === 'pods' ? '/pods' : ''}`);
    const running = this.agents.get(id);
    if (running) return running;
    const uid = this.clusters?.get(namespace, cluster)?.metadata.uid;
    if (uid === undefined) return undefined;
    const runtime =
      kind === 'engine'
        ? fargateRuntime!(`fargate.${namespace}.${cluster}.${uid}`)
        : fargatePods!({ namespace, cluster, uid }, (launch) => this.profilePodSettings(namespace, cluster, launch.taskName));
    const seat = fargateSeat(
      this.context,
      namespace,
      cluster,
      { storageCheckIntervalMs: 10_000, ...this.options.fargateStorage },
      {
        kind,
        kindOf: (t) => this.fargatePoolKind(t),
      },
    );
    const pool = new InstanceAgent(this.context, seat, runtime);
    this.agents.set(id, pool);
    this.log.info('Fargate pool started', { namespace, cluster, kind });
    this.scheduleSweep();
    return pool;
  }

  /** Pods where the task was admitted under a profile's pod settings and this host can make Pods; the engine otherwise. */
  private fargatePoolKind(task: Task): FargatePoolKind {
    return this.options.fargatePods && task.metadata.annotations?.[fargateProfileAnnotation] !== undefined ? 'pods' : 'engine';
  }

  /** The pod settings of the profile the task was admitted under, as the cluster states them now. */
  private profilePodSettings(namespace: string, cluster: string, taskName: string): PodScheduling {
    const profileName = this.tasks.get(namespace, taskName)?.metadata.annotations?.[fargateProfileAnnotation];
    const profile = this.clusters?.get(namespace, cluster)?.spec.fargateProfiles?.find((p) => p.name === profileName);
    return profile?.pod ?? {};
  }

  /** Stops serving an instance (the InstanceProvider's terminate); its containers are removed. */
  async detach(instance: { namespace: string; name: string }): Promise<void> {
    const id = instanceId(instance.namespace, instance.name);
    const agent = this.agents.get(id);
    if (!agent) return;
    this.agents.delete(id);
    await agent.stop();
    for (const observed of await agent.runtime.list()) await agent.runtime.remove(observed.taskUid);
  }

  /** Stops every agent; with `removeContainers` (berth local, whose store dies with it) also removes every task's containers. */
  async stop(options: { removeContainers?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    await Promise.all([...this.agents.values()].map((agent) => (options.removeContainers ? this.detach(agent) : agent.stop())));
  }

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweepAll()
        .catch((error: Error) => this.log.warn('orphan sweep failed', { error: error.message }))
        .finally(() => {
          if (this.agents.size > 0 && !this.stopped) this.scheduleSweep();
        });
    }, this.sweepIntervalMs);
  }

  /**
   * Removes containers whose Task is gone. Only this instance's own containers are listed (the runtime
   * filters by the instance's uid label, so another Berth on the same engine is never seen), and a
   * Task missing from the cache is asked of the API server before its containers go.
   */
  private async sweepAll(): Promise<void> {
    if (!this.tasks.hasSynced()) return;
    let removed = 0;
    for (const agent of this.agents.values()) {
      for (const observed of await agent.runtime.list()) {
        if (this.taskIndex.withUid(observed.taskUid)) continue;
        const live = await this.options.manager.store.get<Task>(taskType, observed.namespace, observed.taskName);
        if (live?.metadata.uid === observed.taskUid) continue;
        this.log.info('removing orphaned containers', { taskUid: observed.taskUid, task: observed.taskName });
        await agent.runtime.stop(observed.taskUid, {});
        await agent.runtime.remove(observed.taskUid);
        removed++;
      }
    }
    this.log.debug('orphan sweep done', { instances: this.agents.size, removed });
  }
}

function instanceId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
