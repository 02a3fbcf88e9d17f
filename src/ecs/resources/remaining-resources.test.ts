import type { Task, TaskDefinitionSpec } from '../../api';
import { remainingResources } from './remaining-resources';
import { boundTask, container, instance, taskSpec } from '../testing/fixtures';

const specs: Record<string, TaskDefinitionSpec> = {
  'web:1': taskSpec([container('app', { cpu: 256, memory: 512, portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] })]),
  'dns:1': taskSpec([container('dns', { cpu: 128, memory: 128, portMappings: [{ containerPort: 53, hostPort: 53, protocol: 'udp' }] })]),
};
const specOf = (task: Task) => specs[task.spec.taskDefinition];

describe('remainingResources', () => {
  test('subtracts every bound task that has not STOPPED and lists the ports taken per protocol', () => {
    const host = instance('i-0', { cpu: 2048, memory: 4096, ports: [22] });
    const onIt = [
      boundTask('a', 'web:1', 'i-0', { lastStatus: 'RUNNING' }),
      boundTask('b', 'dns:1', 'i-0', { lastStatus: 'PROVISIONING' }),
      boundTask('c', 'web:1', 'i-0', { lastStatus: 'STOPPED' }),
    ];
    expect(remainingResources(host, onIt, specOf)).toEqual({ cpu: 2048 - 256 - 128, memory: 4096 - 512 - 128, ports: [22, 8080], udpPorts: [53] });
  });

  test('a task without status yet already holds its share', () => {
    const onIt = [{ ...boundTask('a', 'web:1', 'i-0'), status: undefined }];
    expect(remainingResources(instance('i-0'), onIt, specOf)).toMatchObject({ cpu: 2048 - 256, memory: 4096 - 512 });
  });

  test('a task bound at creation reserves nothing until it is admitted', () => {
    const waiting = { ...boundTask('a', 'web:1', 'i-0'), metadata: { name: 'a', namespace: 'ns' }, status: undefined };
    expect(remainingResources(instance('i-0'), [waiting], specOf)).toMatchObject({ cpu: 2048, memory: 4096 });
    const started = { ...waiting, status: { lastStatus: 'PENDING' as const } };
    expect(remainingResources(instance('i-0'), [started], specOf)).toMatchObject({ cpu: 2048 - 256, memory: 4096 - 512 });
  });

  test('a task whose revision is unknown reserves nothing', () => {
    expect(remainingResources(instance('i-0'), [boundTask('a', 'gone:3', 'i-0')], specOf)).toEqual({ cpu: 2048, memory: 4096, ports: [], udpPorts: [] });
  });

  test('an overcommitted instance offers nothing rather than a negative amount', () => {
    const onIt = [boundTask('a', 'web:1', 'i-0'), boundTask('b', 'web:1', 'i-0')];
    expect(remainingResources(instance('i-0', { cpu: 300, memory: 600 }), onIt, specOf)).toMatchObject({ cpu: 0, memory: 0 });
  });
});
