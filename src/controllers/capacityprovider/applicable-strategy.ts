import { fargateCapacityProvider, type Cluster, type Service, type Task } from '../../api';
import type { CapacityProviderStrategy } from './strategy';
import { fargateProfileOf } from '../../ecs/compatibility';

/** FARGATE alone: what `launchType: FARGATE` and a matching Fargate profile ask for. */
const fargateOnly: CapacityProviderStrategy = [{ capacityProvider: fargateCapacityProvider, base: 0, weight: 1 }];

/**
 * The capacity provider strategy a task is placed with, as ECS resolves it, or undefined for "any
 * instance of the cluster" (launchType EC2, or nothing to go by):
 *  1. the launch type or capacityProviderStrategy of its service (of the task itself for RunTask);
 *  2. else a Fargate profile of the cluster whose selector matches the task's namespace and labels (with
 *     the service's labels, which its tasks stand for), as EKS profiles select pods;
 *  3. else the cluster's defaultCapacityProviderStrategy.
 */
export function applicableStrategy(task: Task, service: Service | undefined, cluster: Cluster | undefined): CapacityProviderStrategy | undefined {
  const source = service?.spec ?? task.spec;
  if (source.launchType === 'EC2') return undefined;
  if (source.launchType === 'FARGATE') return fargateOnly;
  if (source.capacityProviderStrategy?.length) return source.capacityProviderStrategy;
  if (cluster && fargateProfileOf(task, service?.metadata.labels, cluster)) return fargateOnly;
  return cluster?.spec.defaultCapacityProviderStrategy?.length ? cluster.spec.defaultCapacityProviderStrategy : undefined;
}
