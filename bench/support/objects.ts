/**
 * The Berth objects the cases apply, shaped as a user's manifests would be. Instances fit exactly
 * `tasksPerInstance` tasks, so placement has to fill every slot: 1,000 instances hold 10,000 tasks.
 */
import type { ClusterSpecInput, ContainerDefinition, ServiceSpecInput, TaskDefinitionSpecInput } from '../../src/api';
import type { KubeObject } from '../../src/store/object-store';

export const tasksPerInstance = 10;
/** CPU units and MiB of one instance; a task takes a tenth of each, rounded down. */
const instanceSize = 1024;
export const taskSize = Math.floor(instanceSize / tasksPerInstance);

type Manifest<Spec> = KubeObject & { spec: Spec };

const apiVersion = 'berth.dev/v1alpha1';

export function clusterManifest(namespace: string, name: string, instances: number, provider: 'simulated' | 'local'): Manifest<ClusterSpecInput> {
  return {
    apiVersion,
    kind: 'Cluster',
    metadata: { namespace, name },
    spec: {
      nodeGroups: [
        {
          name: 'general',
          type: 'managed',
          provider,
          instanceType: { cpu: instanceSize, memory: instanceSize },
          scaling: { minSize: 0, desiredSize: instances, maxSize: instances },
          availabilityZones: ['zone-a', 'zone-b'],
        },
      ],
    },
  };
}

/** One essential container sized to one slot; `version` lands in its environment, so changing it registers a new revision. */
export function taskDefinitionManifest(
  namespace: string,
  name: string,
  container: Pick<ContainerDefinition, 'image'> & Partial<ContainerDefinition>,
  version = '1',
): Manifest<TaskDefinitionSpecInput> {
  return {
    apiVersion,
    kind: 'TaskDefinition',
    metadata: { namespace, name },
    spec: {
      containerDefinitions: [
        { name: 'app', essential: true, cpu: taskSize, memory: taskSize, environment: [{ name: 'VERSION', value: version }], ...container },
      ],
    },
  };
}

export interface ServiceShape {
  cluster: string;
  taskDefinition: string;
  desiredCount: number;
  minimumHealthyPercent?: number;
  maximumPercent?: number;
}

export function serviceManifest(namespace: string, name: string, shape: ServiceShape): Manifest<ServiceSpecInput> {
  return {
    apiVersion,
    kind: 'Service',
    metadata: { namespace, name },
    spec: {
      cluster: shape.cluster,
      taskDefinition: shape.taskDefinition,
      schedulingStrategy: 'REPLICA',
      desiredCount: shape.desiredCount,
      deploymentConfiguration: {
        ...(shape.minimumHealthyPercent !== undefined ? { minimumHealthyPercent: shape.minimumHealthyPercent } : {}),
        ...(shape.maximumPercent !== undefined ? { maximumPercent: shape.maximumPercent } : {}),
      },
    },
  };
}
