import type { ContainerDefinition, TaskDefinitionSpec } from '../api';
import type { ContainerObservation } from '../ecs/task-lifecycle/observation';

/**
 * The TaskRuntime port: what an agent asks of the engine that runs one container instance's tasks.
 * Adapters: `docker/` (a real Docker engine through dockerode) and `simulated/` (no containers;
 * configurable delays and failures, for scale tests and benchmarks).
 *
 * The port is level-triggered like everything else in Berth: `ensureRunning` takes one step towards
 * the task running (create what is missing, start what may start now given `dependsOn`) and returns;
 * the agent calls it again on every change the runtime reports, so a restarted agent simply carries on
 * from what the engine shows. Containers carry labels naming their task (see `taskLabels`), which is how
 * `list()` re-adopts them after a restart.
 */

// The container facts the task lifecycle reads: defined beside it, where the controllers can import them.
export type { ContainerObservation, ContainerState, HealthState, NetworkBinding } from '../ecs/task-lifecycle/observation';

export interface TaskObservation {
  /** Task uid: the label every container of the task carries. */
  taskUid: string;
  namespace: string;
  taskName: string;
  containers: ContainerObservation[];
  pullStartedAt?: string;
  pullStoppedAt?: string;
}

/** Registry credentials for one image, from a kubernetes.io/dockerconfigjson Secret. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** Everything needed to run one task; secret values are resolved but must never be logged or reported. */
export interface TaskLaunch {
  taskUid: string;
  namespace: string;
  taskName: string;
  cluster: string;
  containerInstance: string;
  /** `family:N`. */
  taskDefinition: string;
  /** The revision's spec with the task's overrides applied. */
  spec: TaskDefinitionSpec;
  /** Per container: environment variables from secrets and environment files, already resolved. */
  resolvedEnvironment: Record<string, Record<string, string>>;
  /** Per container: credentials for its image, when repositoryCredentials named a Secret. */
  registryAuth: Record<string, RegistryAuth>;
  /** Host address container ports are published on; 127.0.0.1 unless configured otherwise. */
  publishAddress: string;
  /** The service whose task this is (its berth.dev/service label), if any. */
  service?: string;
  /**
   * The task reported PENDING or later: its containers (its Pod) were made before. A Pod missing now was
   * deleted by someone else, which stops the task rather than starting it again.
   */
  launchedBefore?: boolean;
}

export interface TaskRuntime {
  /** One idempotent step towards every container of the task running; never starts a container twice. */
  ensureRunning(launch: TaskLaunch): Promise<TaskObservation>;
  /**
   * Stops every container of the task: SIGTERM, then SIGKILL after the container's stopTimeout
   * (default 30 s), in reverse dependency order. Resolves when all are stopped.
   */
  stop(taskUid: string, stopTimeouts: Record<string, number | undefined>): Promise<void>;
  /** Removes the task's containers and task-scoped volumes (after STOPPED, or for an orphan). */
  remove(taskUid: string): Promise<void>;
  observe(taskUid: string): Promise<TaskObservation | undefined>;
  /** Every task the engine holds for this instance, from container labels: what a restarted agent re-adopts. */
  list(): Promise<TaskObservation[]>;
  /** Called with a task uid whenever one of its containers changes (Docker events, not only polling). */
  watch(onChange: (taskUid: string) => void): { stop(): void };
  /** Engine version, for ContainerInstance.status.versionInfo. */
  version(): Promise<string>;
  /** Bytes the task's containers have written to their own filesystems: what Fargate's ephemeral storage holds. */
  ephemeralStorageUsed(taskUid: string): Promise<number>;
  /** CPU and memory the task's containers use now, or undefined when the engine cannot say (no such task, no statistics). */
  usage(taskUid: string): Promise<TaskUsage | undefined>;
}

/**
 * One reading of what a task uses, for service auto scaling. ECS's utilization is used ÷ reserved × 100:
 * CPU in units (1024 a vCPU), memory in MiB. An engine gives CPU in one of two shapes, and the port takes
 * each as it comes rather than faking one from the other:
 *  - CumulativeUsage (Docker): the CPU time the containers consumed since they started. The caller divides
 *    the difference of two readings by the wall time between them, so what it reports is the average over
 *    the whole period, as ECS's per-minute datapoints are. Two readings 60 s apart, 30e9 ns apart:
 *    30e9 / 60e9 × 1024 = 512 CPU units, half a vCPU.
 *  - RateUsage (Pods, from metrics.k8s.io): a rate the metrics pipeline already averaged over its own window,
 *    reported as it is with that window. 500000000n (500m) over a 10 s window: 0.5 × 1024 = 512 CPU units,
 *    windowSeconds 10.
 * Why not turn a rate into a counter (Σ rate × window)? The caller reads once a period (60 s) and
 * metrics-server's windows (10–15 s) neither tile that period nor can be listed afterwards: a made-up counter
 * would either count 10 s of 60 (a sixth of the load) or stretch the last window over the whole period, which
 * is the rate again under a false name. The window stays honest in the report (status.usage.windowSeconds).
 */
export type TaskUsage = CumulativeUsage | RateUsage;

interface UsageReading {
  /** Memory in use now, in bytes, summed over the task's running containers, without the page cache the kernel can reclaim (Docker CLI's "MEM USAGE": usage − inactive_file on cgroup v2, usage − total_inactive_file on v1; the kubelet's working set). */
  memoryBytes: number;
  /** When the engine read it (milliseconds since the epoch, the engine's timestamp if it gives one, else the runtime's clock); for a rate, the end of its window. */
  readAt: number;
}

export interface CumulativeUsage extends UsageReading {
  /** Total CPU time the task's running containers have consumed, in nanoseconds (cumulative, as cgroups count it): two readings give the average use between them. */
  cpuNanoseconds: number;
}

export interface RateUsage extends UsageReading {
  /** CPU the task's containers used, in nanocores (1e9 a core), averaged over the `windowMs` that ends at readAt. */
  cpuNanocores: number;
  windowMs: number;
}

/** Labels every Berth container carries. */
export const taskLabels = {
  taskUid: 'dev.berth.task-uid',
  taskName: 'dev.berth.task-name',
  namespace: 'dev.berth.namespace',
  cluster: 'dev.berth.cluster',
  containerInstance: 'dev.berth.container-instance',
  containerName: 'dev.berth.container-name',
  taskDefinition: 'dev.berth.task-definition',
} as const;

export function essentialContainers(spec: TaskDefinitionSpec): ContainerDefinition[] {
  return spec.containerDefinitions.filter((c) => c.essential !== false);
}
