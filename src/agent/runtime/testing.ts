/** Builders for the runtime's unit tests: task definitions with the API server's defaults filled in. */
import type { ContainerDefinition, TaskDefinitionSpec } from '../../api';
import type { TaskLaunch } from '../task-runtime';

export type ContainerInput = Omit<ContainerDefinition, 'essential' | 'image'> & { essential?: boolean; image?: string };

export function containerDefinition(input: ContainerInput): ContainerDefinition {
  return { image: 'busybox:stable', essential: true, memory: 64, ...input };
}

export function taskSpec(containers: ContainerInput[], extra: Partial<Omit<TaskDefinitionSpec, 'containerDefinitions'>> = {}): TaskDefinitionSpec {
  return { networkMode: 'bridge', ...extra, containerDefinitions: containers.map(containerDefinition) };
}

export function taskLaunch(spec: TaskDefinitionSpec, overrides: Partial<TaskLaunch> = {}): TaskLaunch {
  return {
    taskUid: 'uid-1',
    namespace: 'team',
    taskName: 'web-1',
    cluster: 'default',
    containerInstance: 'instance-a',
    taskDefinition: 'web:3',
    spec,
    resolvedEnvironment: {},
    registryAuth: {},
    publishAddress: '127.0.0.1',
    ...overrides,
  };
}
