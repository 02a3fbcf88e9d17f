import { fargateCapacityProvider, type Task, type TaskDefinitionSpec } from '../api';
import { fargateLaunchProblem } from '../ecs/compatibility';
import { isAdmitted } from '../ecs/resources';
import type { AgentContext, AgentSeat } from './instance-agent';

/**
 * A cluster's Fargate pool as a seat: it runs the cluster's admitted FARGATE tasks, each with no
 * instance and no instance accounting, in a network namespace of its own (awsvpc: the runtime's
 * namespace owner publishes every container port on 127.0.0.1, so two tasks may use the same port).
 */
/** Fargate's ephemeral storage when the task definition names none: 20 GiB. */
export const defaultEphemeralStorageGiB = 20;
const gibibyte = 2 ** 30;

export interface FargateSeatOptions {
  /** How often a running task's writes are measured. */
  storageCheckIntervalMs: number;
  /** Bytes per GiB of ephemeralStorage.sizeInGiB: 2^30, except in tests that cannot write 20 GiB. */
  bytesPerGiB?: number;
}

/**
 * A cluster has up to two Fargate pools: `pods` runs the tasks a profile with pod settings selected, as
 * unbound Pods (the kubelet limits their ephemeral storage); `engine` runs the others on the Docker engine,
 * where the seat measures what each task writes.
 */
export type FargatePoolKind = 'engine' | 'pods';

export function fargateSeat(
  context: Pick<AgentContext, 'taskIndex'>,
  namespace: string,
  cluster: string,
  options: FargateSeatOptions,
  pool: { kind: FargatePoolKind; kindOf(task: Task): FargatePoolKind } = { kind: 'engine', kindOf: () => 'engine' },
): AgentSeat {
  const runs = (task: Task) =>
    task.metadata.namespace === namespace &&
    task.spec.cluster === cluster &&
    task.spec.capacityProviderName === fargateCapacityProvider &&
    task.spec.containerInstance === undefined &&
    isAdmitted(task) &&
    pool.kindOf(task) === pool.kind;
  return {
    namespace,
    name: pool.kind === 'engine' ? `${fargateCapacityProvider}/${cluster}` : `${fargateCapacityProvider}/${cluster}/pods`,
    runs,
    assigned: () => context.taskIndex.inCluster(namespace, cluster).filter(runs),
    launchProblem: fargateLaunchProblem,
    ...(pool.kind === 'engine' && {
      ephemeralStorage: {
        limitBytes: (spec: TaskDefinitionSpec) => (spec.ephemeralStorage?.sizeInGiB ?? defaultEphemeralStorageGiB) * (options.bytesPerGiB ?? gibibyte),
        checkIntervalMs: options.storageCheckIntervalMs,
      },
    }),
  };
}
