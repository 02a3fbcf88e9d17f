/**
 * The TaskRuntime port on a Kubernetes Node: each task is one Pod bound to the Node (`spec.nodeName`: Berth
 * placed it, kube-scheduler is not involved), owned by its Task. A cluster's Fargate pool uses it unbound:
 * its Pods go to the scheduler, Nodes and runtime class the Fargate profile names. The InstanceAgent drives it exactly as it
 * drives a Docker engine: ensureRunning creates the Pod once and reports what its status shows; stop deletes
 * it with the task's stopTimeout as grace; an essential container that exits stops the task because the
 * agent stops it, not because the kubelet did anything.
 *
 * Bridge mappings without a hostPort get one from ECS's dynamic range (49153–65535) that no Pod on the Node
 * holds, Berth's or not, nor any allocation of this runtime still on its way into the cache.
 */
import type { TaskDefinitionSpec } from '../../../api';
import type { ContainerObservation } from '../../../ecs/task-lifecycle/observation';
import { delay, type Clock } from '../../../runtime/clock';
import type { ObjectStore } from '../../../store/object-store';
import { isStoreError } from '../../../store/object-store';
import { pods } from '../../../store/builtin-types';
import type { RateUsage, TaskLaunch, TaskObservation, TaskRuntime } from '../../task-runtime';
import { isActivePod, podLabels, type PodIndex, type PodObject } from '../../../ecs/pods';
import { podMetricsType, podMetricsUsage, type PodMetrics } from './pod-metrics';
import { observePod } from './pod-observation';
import { containerNamesAnnotation, hostPortKey, taskPod, type PodScheduling } from './pod-spec';

export const dynamicHostPorts = { first: 49153, last: 65535 } as const;

export interface KubernetesRuntimeOptions {
  store: ObjectStore;
  pods: PodIndex;
  /** The Node every Pod is bound to; absent for a Fargate pool, whose Pods the profile's scheduler places. */
  nodeName?: string;
  /** The ContainerInstance's uid, Berth's own identity for it (see podLabels.instanceUid); a Fargate pool's own. */
  instanceUid: string;
  clock: Clock;
  /** Tolerations and the like of the node group or Fargate profile, read at each launch (they may change). */
  scheduling(launch: TaskLaunch): PodScheduling;
  podLevelResources: boolean;
  /** Fargate tasks: ephemeralStorage becomes the containers' ephemeral-storage limits (the kubelet evicts past them). */
  fargate?: boolean;
  /** The Node's container runtime, for the instance's versionInfo. */
  version(): string;
}

const defaultStopTimeoutSeconds = 30;

export class KubernetesRuntime implements TaskRuntime {
  private readonly specs = new Map<string, TaskDefinitionSpec>();
  private readonly everReady = new Map<string, Set<string>>();
  private readonly lastSeen = new Map<string, TaskObservation>();
  private readonly allocating = new Map<string, number[]>();

  constructor(private readonly options: KubernetesRuntimeOptions) {}

  async ensureRunning(launch: TaskLaunch): Promise<TaskObservation> {
    this.specs.set(launch.taskUid, launch.spec);
    const cached = this.options.pods.ofTask(launch.taskUid);
    if (cached) return this.observation(cached);
    if (!launch.launchedBefore) {
      // A first launch creates at once, with no read first (one request per task fewer, at 10,000 tasks):
      // a Pod already there answers AlreadyExists, and create() tells this task's own (an earlier step's,
      // not in the cache yet) from an earlier task's of the same name.
      const created = await this.create(launch);
      return created ? this.observation(created) : this.pending(launch);
    }
    // Launched before and missing from the cache, which is no proof: ask the API server before calling the Pod gone.
    const live = await this.options.store.get<PodObject>(pods, launch.namespace, launch.taskName);
    if (live && live.metadata.labels?.[podLabels.taskUid] === launch.taskUid) return this.observation(live);
    if (live) return this.pending(launch); // a Pod of an earlier task of this name is still terminating
    return this.deletedUnderIt(launch);
  }

  async stop(taskUid: string, stopTimeouts: Record<string, number | undefined>): Promise<void> {
    const pod = this.options.pods.ofTask(taskUid);
    if (!pod) return;
    this.observation(pod);
    const grace = Math.max(0, ...Object.values(stopTimeouts).map((t) => t ?? defaultStopTimeoutSeconds));
    await this.delete(pod, grace);
    // Until the kubelet has stopped every container (their exit codes are what the task reports) or the Pod is gone.
    const deadline = this.options.clock.now() + (grace + 30) * 1000;
    for (;;) {
      const current = this.options.pods.ofTask(taskUid);
      if (!current) return;
      this.observation(current);
      if (this.lastSeen.get(taskUid)?.containers.every((c) => c.lastStatus === 'STOPPED')) return;
      if (this.options.clock.now() >= deadline) return;
      await delay(this.options.clock, 250);
    }
  }

  async remove(taskUid: string): Promise<void> {
    const pod = this.options.pods.ofTask(taskUid);
    if (pod) await this.delete(pod, 0);
    this.specs.delete(taskUid);
    this.everReady.delete(taskUid);
    this.lastSeen.delete(taskUid);
    this.allocating.delete(taskUid);
  }

  observe(taskUid: string): Promise<TaskObservation | undefined> {
    const pod = this.options.pods.ofTask(taskUid);
    if (pod) return Promise.resolve(this.observation(pod));
    const last = this.lastSeen.get(taskUid);
    // Gone: whatever had not stopped when it was last seen stopped with it.
    return Promise.resolve(
      last && { ...last, containers: last.containers.map((c) => (c.lastStatus === 'STOPPED' ? c : { ...c, lastStatus: 'STOPPED' as const })) },
    );
  }

  list(): Promise<TaskObservation[]> {
    return Promise.resolve(
      this.ownPods().map((pod) => ({
        taskUid: pod.metadata.labels![podLabels.taskUid],
        namespace: pod.metadata.namespace!,
        taskName: pod.metadata.name,
        containers: [],
      })),
    );
  }

  watch(onChange: (taskUid: string) => void): { stop(): void } {
    const changed = (pod: PodObject) => {
      const uid = pod.metadata.labels?.[podLabels.taskUid];
      if (uid && pod.metadata.labels?.[podLabels.instanceUid] === this.options.instanceUid) onChange(uid);
    };
    const registration = this.options.pods.informer.addEventHandler({ onAdd: changed, onUpdate: (_old, pod) => changed(pod), onDelete: changed });
    return { stop: () => registration.remove() };
  }

  version(): Promise<string> {
    return Promise.resolve(this.options.version());
  }

  /** A Node instance is never Fargate: nothing measures or limits what its tasks write. */
  ephemeralStorageUsed(): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * The task's Pod's PodMetrics from the resource metrics API (metrics.k8s.io, served by metrics-server), as a
   * rate over its window (see pod-metrics.ts): `get pods.metrics.k8s.io` only, never the kubelet's API through
   * nodes/proxy. Undefined while the Pod has no complete, fresh sample, and on a cluster that serves no
   * metrics.k8s.io (no metrics-server: the API server answers 404 as for an unscraped Pod); the service's
   * ScalingActive condition then says NoMetricData.
   */
  async usage(taskUid: string): Promise<RateUsage | undefined> {
    const pod = this.options.pods.ofTask(taskUid);
    if (!pod || pod.status?.phase !== 'Running') return undefined;
    const metrics = await this.options.store.get<PodMetrics>(podMetricsType, pod.metadata.namespace, pod.metadata.name);
    return podMetricsUsage(metrics, pod, this.options.clock.now());
  }

  private ownPods(): PodObject[] {
    const { nodeName, instanceUid } = this.options;
    const candidates = nodeName !== undefined ? this.options.pods.onNode(nodeName) : this.options.pods.informer.list();
    return candidates.filter((pod) => pod.metadata.labels?.[podLabels.instanceUid] === instanceUid);
  }

  /** The task's Pod, created now or found created already; undefined while an earlier task of its name still holds the name. */
  private async create(launch: TaskLaunch): Promise<PodObject | undefined> {
    const allocated = this.allocateHostPorts(launch);
    const pod = taskPod({
      task: { namespace: launch.namespace, name: launch.taskName, uid: launch.taskUid },
      cluster: launch.cluster,
      ...(launch.service !== undefined && { service: launch.service }),
      taskDefinition: launch.taskDefinition,
      spec: launch.spec,
      ...(this.options.nodeName !== undefined && { nodeName: this.options.nodeName }),
      allocatedHostPorts: allocated,
      podLevelResources: this.options.podLevelResources,
      scheduling: this.options.scheduling(launch),
      ...(this.options.fargate && { fargate: true }),
    });
    pod.metadata!.labels![podLabels.instanceUid] = this.options.instanceUid;
    try {
      return await this.options.store.create<PodObject>(pods, pod as PodObject);
    } catch (error) {
      const existing = isStoreError(error, 'AlreadyExists') ? await this.options.store.get<PodObject>(pods, launch.namespace, launch.taskName) : undefined;
      if (existing?.metadata.labels?.[podLabels.taskUid] === launch.taskUid) return existing;
      this.allocating.delete(launch.taskUid);
      if (existing) return undefined;
      throw error;
    }
  }

  /**
   * The lowest free ports of the dynamic range, one per bridge mapping without a hostPort.
   *   e.g. Pods on the node hold 49153 and 49155: two mappings get 49154 and 49156.
   */
  private allocateHostPorts(launch: TaskLaunch): Record<string, Record<string, number>> {
    const byContainer: Record<string, Record<string, number>> = {};
    const nodeName = this.options.nodeName;
    // Only bridge mappings take host ports, and only on a Node Berth chose (a Fargate task is awsvpc).
    if (launch.spec.networkMode !== 'bridge' || nodeName === undefined) return byContainer;
    // An allocation is held until the informer shows its Pod, whose ports onNode() then counts.
    for (const uid of this.allocating.keys()) if (this.options.pods.ofTask(uid)) this.allocating.delete(uid);
    const taken = new Set<number>([...this.allocating.values()].flat());
    for (const pod of this.options.pods.onNode(nodeName)) {
      if (!isActivePod(pod)) continue;
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])])
        for (const p of c.ports ?? []) if (p.hostPort) taken.add(p.hostPort);
    }
    for (const c of launch.spec.containerDefinitions) for (const p of c.portMappings ?? []) if (p.hostPort) taken.add(p.hostPort);
    const mine: number[] = [];
    let next: number = dynamicHostPorts.first;
    for (const container of launch.spec.containerDefinitions) {
      for (const mapping of container.portMappings ?? []) {
        if (mapping.hostPort) continue;
        while (taken.has(next) && next <= dynamicHostPorts.last) next++;
        if (next > dynamicHostPorts.last) throw new Error(`no free host port left in ${dynamicHostPorts.first}-${dynamicHostPorts.last} on node ${nodeName}`);
        (byContainer[container.name] ??= {})[hostPortKey(mapping.containerPort, mapping.protocol)] = next;
        taken.add(next);
        mine.push(next);
      }
    }
    this.allocating.set(launch.taskUid, mine);
    return byContainer;
  }

  private async delete(pod: PodObject, gracePeriodSeconds: number): Promise<void> {
    try {
      await this.options.store.delete(pods, pod.metadata.namespace, pod.metadata.name, { preconditionUid: pod.metadata.uid!, gracePeriodSeconds });
    } catch (error) {
      if (!isStoreError(error, 'NotFound') && !isStoreError(error, 'Conflict')) throw error;
    }
  }

  private observation(pod: PodObject): TaskObservation {
    const uid = pod.metadata.labels?.[podLabels.taskUid] ?? '';
    const spec = this.specs.get(uid) ?? specFromPod(pod);
    const ready = this.everReady.get(uid) ?? new Set<string>();
    const containers = observePod({ pod, spec, nowMs: this.options.clock.now(), everReady: ready });
    for (const c of containers) if (c.healthStatus === 'HEALTHY') ready.add(c.name);
    this.everReady.set(uid, ready);
    const observation = { taskUid: uid, namespace: pod.metadata.namespace!, taskName: pod.metadata.name, containers };
    this.lastSeen.set(uid, observation);
    return observation;
  }

  private pending(launch: TaskLaunch): TaskObservation {
    const containers: ContainerObservation[] = launch.spec.containerDefinitions.map((c) => ({
      name: c.name,
      lastStatus: 'PENDING',
      healthStatus: 'UNKNOWN',
      networkBindings: [],
    }));
    return { taskUid: launch.taskUid, namespace: launch.namespace, taskName: launch.taskName, containers };
  }

  /** The Pod went without Berth stopping it (deleted, evicted and removed): the task stops, and its service replaces it. */
  private deletedUnderIt(launch: TaskLaunch): TaskObservation {
    const last = this.lastSeen.get(launch.taskUid);
    const containers: ContainerObservation[] = launch.spec.containerDefinitions.map((c) => {
      const seen = last?.containers.find((o) => o.name === c.name);
      return {
        name: c.name,
        lastStatus: 'STOPPED',
        reason: 'the task’s Pod was deleted',
        healthStatus: 'UNKNOWN',
        networkBindings: [],
        // Started before (the task got past PENDING): its exit ends the task rather than failing a launch.
        startedAt: seen?.startedAt ?? new Date(this.options.clock.now()).toISOString(),
      };
    });
    return { taskUid: launch.taskUid, namespace: launch.namespace, taskName: launch.taskName, containers };
  }
}

/** For a Pod met before its launch (a restarted agent stopping it): its containers, by their ECS names. */
function specFromPod(pod: PodObject): TaskDefinitionSpec {
  const names = JSON.parse(pod.metadata.annotations?.[containerNamesAnnotation] ?? '{}') as Record<string, string>;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return {
    networkMode: pod.spec?.hostNetwork ? 'host' : 'bridge',
    containerDefinitions: all.map((c) => ({ name: names[c.name] ?? c.name, image: c.image ?? '', essential: true })),
  };
}
