/**
 * Berth's API (berth.dev/v1alpha1): the TypeScript types, ResourceTypes, CRDs and validators of
 * its kinds, all derived from the schemas in v1alpha1/.
 */
import { resourceKey, type ResourceType } from '../store/object-store';
import type { CustomResourceDefinition, KindDefinition, ObjectValidator } from './kind';
import { clusterKind } from './v1alpha1/cluster';
import { containerInstanceKind } from './v1alpha1/container-instance';
import { serviceKind } from './v1alpha1/service';
import { taskKind } from './v1alpha1/task';
import { taskDefinitionKind } from './v1alpha1/task-definition';

export { group, version, category, type CustomResourceDefinition, type ObjectValidator, type PrinterColumn } from './kind';
export { fargateCapacityProvider, type Condition } from './v1alpha1/common';
export type { Cluster, ClusterSpec, ClusterSpecInput, ClusterStatus, NodeGroup, FargateProfile } from './v1alpha1/cluster';
export {
  containerInstanceLeaseLabel,
  containerInstanceLeaseLabelValue,
  instanceLeaseName,
  type ContainerInstance,
  type ContainerInstanceSpec,
  type ContainerInstanceSpecInput,
  type ContainerInstanceStatus,
  type InstanceResources,
} from './v1alpha1/container-instance';
export {
  deploymentLimits,
  serviceLabel,
  type ResolvedDeploymentLimits,
  type Service,
  type ServiceSpec,
  type ServiceSpecInput,
  type ServiceStatus,
  type ServiceDeployment,
} from './v1alpha1/service';
export {
  admittedAnnotation,
  stopReasonAnnotation,
  type Task,
  type TaskSpec,
  type TaskSpecInput,
  type TaskStatus,
  type TaskContainerStatus,
} from './v1alpha1/task';
export {
  fargateSizeProblem,
  type TaskDefinition,
  type TaskDefinitionSpec,
  type TaskDefinitionSpecInput,
  type TaskDefinitionStatus,
  type ContainerDefinition,
} from './v1alpha1/task-definition';

const kinds = {
  Cluster: clusterKind,
  TaskDefinition: taskDefinitionKind,
  Service: serviceKind,
  ContainerInstance: containerInstanceKind,
  Task: taskKind,
} satisfies Record<string, KindDefinition>;

export type BerthKind = keyof typeof kinds;

export const clusters: ResourceType = clusterKind.resourceType;
export const taskDefinitions: ResourceType = taskDefinitionKind.resourceType;
export const services: ResourceType = serviceKind.resourceType;
export const containerInstances: ResourceType = containerInstanceKind.resourceType;
export const tasks: ResourceType = taskKind.resourceType;

/** Every Berth ResourceType, in the order manifests should be applied. */
export const berthResourceTypes: readonly ResourceType[] = Object.values(kinds).map((k) => k.resourceType);

export function crdFor(kind: BerthKind): CustomResourceDefinition {
  return kinds[kind].crd();
}

export function allCrds(): CustomResourceDefinition[] {
  return Object.values(kinds).map((k) => k.crd());
}

/** The Berth ResourceType of a manifest's apiVersion and kind, if it is one. */
export function resourceTypeFor(apiVersion: string, kind: string): ResourceType | undefined {
  return berthResourceTypes.find((t) => `${t.group}/${t.version}` === apiVersion && t.kind === kind);
}

const validators = new Map(Object.values(kinds).map((k) => [resourceKey(k.resourceType), k.validator]));

/**
 * Defaulting and validation as the kube-apiserver applies them, for the embedded store; undefined
 * for the built-in resources, which the embedded store takes as they are.
 */
export function validatorFor(type: ResourceType): ObjectValidator | undefined {
  return validators.get(resourceKey(type));
}
