import type { InstanceProviders } from '../ecs/instance-provider';
import { addClusterController } from './cluster/controller';
import { addContainerInstanceController } from './containerinstance/controller';
import type { Manager } from '../runtime/manager';
import type { Scheduler } from './placement';
import { addServiceController } from './service/controller';
import { addAutoScalingController } from './autoscaling/controller';
import { addTaskController } from './task/controller';
import { addTaskDefinitionController } from './taskdefinition/controller';
import { addNodeGroupController } from './nodes/controller';
import type { InstanceProvider } from '../ecs/instance-provider';
import type { ScaleTargets } from './cluster/scale-targets';
import type { ExternalMetrics } from './autoscaling/request-count';

export interface ControllerSetOptions {
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
  /** What launches the instances of managed node groups; without it instances are registered but nothing runs them. */
  instanceProviders?: InstanceProviders;
  scheduler?: Scheduler;
  /** How long the tasks of an instance whose agent stopped reporting wait before they are stopped; 5 minutes when absent. */
  disconnectedInstanceGraceMs?: number;
  /**
   * Node groups of Nodes (berth operator against a real cluster): mirror the Nodes their selectors match,
   * and run each mirrored instance's tasks as Pods through this provider. Without it no Node is read.
   */
  nodeInstances?: InstanceProvider;
  /** What adds and removes the Nodes of managed groups of Nodes (their scaleTarget); none without a cluster. */
  scaleTargets?: ScaleTargets;
  /** Service auto scaling's datapoint period (ECS: one minute); agents report task usage as often. */
  metricsPeriodMs?: number;
  /** The external metrics API that ALBRequestCountPerTarget reads; none without a cluster. */
  externalMetrics?: ExternalMetrics;
}

/** ECS's service metrics are one datapoint a minute. */
export const defaultMetricsPeriodMs = 60_000;

/** Every Berth controller, as both `berth operator` and `berth local` run them. */
export function addControllers(manager: Manager, options: ControllerSetOptions = {}): void {
  addTaskDefinitionController(manager, options.namespace);
  addClusterController(manager, options.namespace, options.instanceProviders, {
    scheduler: options.scheduler,
    scaleTargets: options.scaleTargets,
    nodesServed: options.nodeInstances !== undefined,
  });
  addContainerInstanceController(manager, options.namespace, options.nodeInstances !== undefined);
  if (options.nodeInstances) addNodeGroupController(manager, options.nodeInstances, options.namespace);
  addTaskController(manager, {
    namespace: options.namespace,
    scheduler: options.scheduler,
    disconnectedInstanceGraceMs: options.disconnectedInstanceGraceMs,
  });
  addServiceController(manager, options.namespace);
  addAutoScalingController(manager, {
    namespace: options.namespace,
    periodMs: options.metricsPeriodMs ?? defaultMetricsPeriodMs,
    externalMetrics: options.externalMetrics,
  });
}
