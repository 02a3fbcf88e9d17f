import { taskRequirements } from './task-requirements';
import { container, taskSpec } from '../testing/fixtures';

describe('taskRequirements', () => {
  test('task-level cpu and memory win over the containers', () => {
    const spec = taskSpec([container('app', { cpu: 100, memory: 300 })], { cpu: 512, memory: 1024 });
    expect(taskRequirements(spec)).toMatchObject({ cpu: 512, memory: 1024 });
  });

  test('without task-level values: the sum of the containers, memoryReservation before memory', () => {
    const spec = taskSpec([
      container('app', { cpu: 256, memory: 512, memoryReservation: 128 }),
      container('sidecar', { memory: 64 }),
      container('shipper', { cpu: 10, memoryReservation: 32 }),
    ]);
    expect(taskRequirements(spec)).toMatchObject({ cpu: 266, memory: 128 + 64 + 32 });
  });

  test('cpu and memory fall back independently', () => {
    const spec = taskSpec([container('app', { cpu: 300, memory: 200 })], { memory: 2048 });
    expect(taskRequirements(spec)).toMatchObject({ cpu: 300, memory: 2048 });
  });

  test('bridge mode: only hostPort above 0 is static, each with its protocol', () => {
    const spec = taskSpec([
      container('app', {
        portMappings: [
          { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 53, hostPort: 5353, protocol: 'udp' },
          { containerPort: 9000, hostPort: 0, protocol: 'tcp' },
          { containerPort: 9001, protocol: 'tcp' },
        ],
      }),
    ]);
    expect(taskRequirements(spec)).toMatchObject({
      networkMode: 'bridge',
      hostPorts: [
        { port: 8080, protocol: 'tcp' },
        { port: 5353, protocol: 'udp' },
      ],
    });
  });

  test('host mode: every mapping takes its container port on the instance', () => {
    const spec = taskSpec(
      [
        container('app', {
          portMappings: [
            { containerPort: 80, protocol: 'tcp' },
            { containerPort: 443, hostPort: 443, protocol: 'tcp' },
          ],
        }),
      ],
      {
        networkMode: 'host',
      },
    );
    expect(taskRequirements(spec).hostPorts).toEqual([
      { port: 80, protocol: 'tcp' },
      { port: 443, protocol: 'tcp' },
    ]);
  });

  test('awsvpc mode takes no instance port', () => {
    const spec = taskSpec([container('app', { portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] })], { networkMode: 'awsvpc' });
    expect(taskRequirements(spec).hostPorts).toEqual([]);
  });
});
