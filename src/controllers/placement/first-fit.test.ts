import type { ContainerInstance, Task, TaskDefinitionSpec } from '../../api';
import { FirstFitScheduler } from './first-fit';
import { placementCandidates, type PlacementConstraint, type PlacementRequest } from './scheduler';
import { taskRequirements } from './task-requirements';
import { boundTask, container, instance, taskSpec } from './testing/fixtures';

const specs: Record<string, TaskDefinitionSpec> = {
  'web:1': taskSpec([container('app', { cpu: 512, memory: 1024, portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] })]),
  'dns:1': taskSpec([container('dns', { cpu: 64, memory: 64, portMappings: [{ containerPort: 53, hostPort: 8080, protocol: 'udp' }] })]),
  'dynamic:1': taskSpec([container('app', { cpu: 64, memory: 64, portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }] })]),
  'big:1': taskSpec([container('app', { cpu: 4096, memory: 64 })]),
  'hungry:1': taskSpec([container('app', { cpu: 64, memory: 8192 })]),
  'small:1': taskSpec([container('app', { cpu: 64, memory: 64 })]),
  'half:1': taskSpec([container('app', { cpu: 64, memory: 1024 })]),
};
const specOf = (task: Task) => specs[task.spec.taskDefinition];

function request(
  taskDefinition: string,
  instances: ContainerInstance[],
  tasks: Task[] = [],
  placement: { group?: string; constraints?: PlacementConstraint[] } = {},
): PlacementRequest {
  return {
    requirements: taskRequirements(specs[taskDefinition]),
    group: placement.group,
    placementConstraints: placement.constraints ?? [],
    placementStrategy: [],
    candidates: placementCandidates(instances, tasks, specOf),
  };
}

const scheduler = new FirstFitScheduler();

describe('FirstFitScheduler', () => {
  test('no instances at all', () => {
    expect(scheduler.place(request('small:1', []))).toEqual({ reason: 'No Container Instances were found in your cluster' });
  });

  test('picks the first eligible instance by name', () => {
    expect(scheduler.place(request('small:1', [instance('i-c'), instance('i-a'), instance('i-b')]))).toEqual({ instance: 'i-a' });
  });

  test('skips DRAINING instances', () => {
    const draining = instance('i-a', {}, { spec: { ...instance('i-a').spec, status: 'DRAINING' } });
    expect(scheduler.place(request('small:1', [draining, instance('i-b')]))).toEqual({ instance: 'i-b' });
    expect(scheduler.place(request('small:1', [draining]))).toEqual({ reason: 'DRAINING' });
  });

  test('skips INACTIVE instances, instances being deleted and instances whose agent is disconnected', () => {
    const inactive = instance('i-a', {}, { status: { status: 'INACTIVE' } });
    const deleting = instance('i-b', {}, { metadata: { name: 'i-b', namespace: 'ns', deletionTimestamp: '2024-01-01T00:00:00Z' } });
    const disconnected = instance('i-c', {}, { status: { status: 'ACTIVE', agentConnected: false } });
    expect(scheduler.place(request('small:1', [inactive, deleting]))).toEqual({ reason: 'INACTIVE' });
    expect(scheduler.place(request('small:1', [disconnected]))).toEqual({ reason: 'AGENT' });
    expect(scheduler.place(request('small:1', [inactive, disconnected, instance('i-d')]))).toEqual({ instance: 'i-d' });
  });

  test('an instance that never reported a status yet is eligible', () => {
    expect(scheduler.place(request('small:1', [instance('i-a', {}, { status: undefined })]))).toEqual({ instance: 'i-a' });
  });

  test('not enough CPU', () => {
    expect(scheduler.place(request('big:1', [instance('i-a'), instance('i-b')]))).toEqual({ reason: 'RESOURCE:CPU' });
  });

  test('not enough memory', () => {
    expect(scheduler.place(request('hungry:1', [instance('i-a'), instance('i-b')]))).toEqual({ reason: 'RESOURCE:MEMORY' });
  });

  test('memory left is what the registration minus the tasks still bound leaves', () => {
    const host = instance('i-a', { memory: 2048 });
    const bound = [boundTask('t1', 'half:1', 'i-a'), boundTask('t2', 'half:1', 'i-a', { lastStatus: 'STOPPED' })];
    expect(scheduler.place(request('half:1', [host], bound))).toEqual({ instance: 'i-a' });
    expect(scheduler.place(request('half:1', [host], [...bound, boundTask('t3', 'half:1', 'i-a', { lastStatus: 'PENDING' })]))).toEqual({
      reason: 'RESOURCE:MEMORY',
    });
  });

  test('a STOPPED task gives its resources and ports back', () => {
    const bound = [boundTask('t1', 'web:1', 'i-a', { lastStatus: 'STOPPED' })];
    expect(scheduler.place(request('web:1', [instance('i-a', { cpu: 512, memory: 1024 })], bound))).toEqual({ instance: 'i-a' });
  });

  describe('ports', () => {
    test('a static host port in use on an instance sends the task to the next one', () => {
      const bound = [boundTask('t1', 'web:1', 'i-a')];
      expect(scheduler.place(request('web:1', [instance('i-a'), instance('i-b')], bound))).toEqual({ instance: 'i-b' });
      expect(scheduler.place(request('web:1', [instance('i-a')], bound))).toEqual({ reason: 'RESOURCE:PORTS' });
    });

    test('a port the instance reserves is not available', () => {
      expect(scheduler.place(request('web:1', [instance('i-a', { ports: [8080] })]))).toEqual({ reason: 'RESOURCE:PORTS' });
      expect(scheduler.place(request('dns:1', [instance('i-a', { udpPorts: [8080] })]))).toEqual({ reason: 'RESOURCE:PORTS' });
    });

    test('tcp and udp on the same port number do not conflict', () => {
      expect(scheduler.place(request('dns:1', [instance('i-a')], [boundTask('t1', 'web:1', 'i-a')]))).toEqual({ instance: 'i-a' });
      expect(scheduler.place(request('web:1', [instance('i-a')], [boundTask('t1', 'dns:1', 'i-a')]))).toEqual({ instance: 'i-a' });
    });

    test('dynamic host ports never conflict', () => {
      const bound = [boundTask('t1', 'dynamic:1', 'i-a'), boundTask('t2', 'dynamic:1', 'i-a')];
      expect(scheduler.place(request('dynamic:1', [instance('i-a', { ports: [80] })], bound))).toEqual({ instance: 'i-a' });
    });
  });

  describe('distinctInstance', () => {
    const distinct: PlacementConstraint[] = [{ type: 'distinctInstance' }];

    test('skips instances that run a task of the same group', () => {
      const bound = [boundTask('t1', 'small:1', 'i-a', { group: 'service:web' })];
      expect(scheduler.place(request('small:1', [instance('i-a'), instance('i-b')], bound, { group: 'service:web', constraints: distinct }))).toEqual({
        instance: 'i-b',
      });
      expect(scheduler.place(request('small:1', [instance('i-a')], bound, { group: 'service:web', constraints: distinct }))).toEqual({
        reason: 'CONSTRAINT:distinctInstance',
      });
    });

    test('tasks of other groups and STOPPED tasks of the group do not count', () => {
      const bound = [
        boundTask('t1', 'small:1', 'i-a', { group: 'service:api' }),
        boundTask('t2', 'small:1', 'i-a', { group: 'service:web', lastStatus: 'STOPPED' }),
      ];
      expect(scheduler.place(request('small:1', [instance('i-a')], bound, { group: 'service:web', constraints: distinct }))).toEqual({ instance: 'i-a' });
    });

    test('without the constraint, tasks of one group share an instance', () => {
      const bound = [boundTask('t1', 'small:1', 'i-a', { group: 'service:web' })];
      expect(scheduler.place(request('small:1', [instance('i-a')], bound, { group: 'service:web' }))).toEqual({ instance: 'i-a' });
    });
  });

  test('when every instance is rejected, the reason names each distinct rejection in check order', () => {
    const draining = instance('i-a', {}, { spec: { ...instance('i-a').spec, status: 'DRAINING' } });
    const small = instance('i-b', { memory: 128 });
    const busy = instance('i-c');
    expect(scheduler.place(request('web:1', [small, busy, draining], [boundTask('t1', 'web:1', 'i-c')]))).toEqual({
      reason: 'DRAINING, RESOURCE:MEMORY, RESOURCE:PORTS',
    });
  });
});
