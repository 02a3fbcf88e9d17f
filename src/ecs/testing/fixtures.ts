import { admittedAnnotation, type ContainerDefinition, type ContainerInstance, type Task, type TaskDefinitionSpec } from '../../api';

/** Builders for the placement tests: the smallest objects that carry what placement reads. */

export function instance(
  name: string,
  resources: Partial<ContainerInstance['spec']['registeredResources']> = {},
  overrides: Partial<ContainerInstance> = {},
): ContainerInstance {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name, namespace: 'ns' },
    spec: { cluster: 'demo', status: 'ACTIVE', registeredResources: { cpu: 2048, memory: 4096, ...resources } },
    ...overrides,
  };
}

export function container(name: string, fields: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return { name, image: 'busybox', essential: true, ...fields };
}

export function taskSpec(containers: ContainerDefinition[], fields: Partial<TaskDefinitionSpec> = {}): TaskDefinitionSpec {
  return { containerDefinitions: containers, networkMode: 'bridge', ...fields };
}

export function boundTask(
  name: string,
  taskDefinition: string,
  onInstance: string,
  fields: { group?: string; lastStatus?: NonNullable<Task['status']>['lastStatus'] } = {},
): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns', annotations: { [admittedAnnotation]: 'true' } },
    spec: { cluster: 'demo', taskDefinition, containerInstance: onInstance, group: fields.group, desiredStatus: 'RUNNING' },
    status: { lastStatus: fields.lastStatus ?? 'RUNNING' },
  };
}
