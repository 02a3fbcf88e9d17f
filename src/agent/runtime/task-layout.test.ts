import { taskLayout } from './task-layout';
import { taskSpec } from './testing';

describe('taskLayout', () => {
  it('adds CREATE dependencies for volumesFrom and keeps explicit dependsOn', () => {
    const layout = taskLayout(
      taskSpec([
        { name: 'app', portMappings: [{ containerPort: 80, protocol: 'tcp' }], healthCheck: { command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 1 } },
        { name: 'logs', essential: false, volumesFrom: [{ sourceContainer: 'app', readOnly: true }] },
        { name: 'proxy', volumesFrom: [{ sourceContainer: 'app', readOnly: false }], dependsOn: [{ containerName: 'app', condition: 'HEALTHY' }] },
      ]),
    );
    expect(layout).toEqual({
      networkMode: 'bridge',
      containers: [
        { name: 'app', dependencies: [], hasHealthCheck: true, ports: [{ containerPort: 80, protocol: 'tcp' }] },
        { name: 'logs', dependencies: [{ containerName: 'app', condition: 'CREATE' }], hasHealthCheck: false, ports: [] },
        // the stronger explicit condition is kept, not duplicated
        { name: 'proxy', dependencies: [{ containerName: 'app', condition: 'HEALTHY' }], hasHealthCheck: false, ports: [] },
      ],
    });
  });

  it('awsvpc: the first essential container without dependencies owns the network; the others wait for it to start', () => {
    const layout = taskLayout(
      taskSpec([{ name: 'init', essential: false }, { name: 'app', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }, { name: 'envoy' }], {
        networkMode: 'awsvpc',
      }),
    );
    expect(layout.networkOwner).toBe('envoy');
    expect(layout.containers.map((c) => [c.name, c.dependencies])).toEqual([
      ['init', [{ containerName: 'envoy', condition: 'START' }]],
      [
        'app',
        [
          { containerName: 'init', condition: 'SUCCESS' },
          { containerName: 'envoy', condition: 'START' },
        ],
      ],
      ['envoy', []],
    ]);
  });

  it('awsvpc without an independent essential container: the first independent one owns the network', () => {
    const layout = taskLayout(
      taskSpec(
        [
          { name: 'init', essential: false },
          { name: 'app', dependsOn: [{ containerName: 'init', condition: 'START' }] },
        ],
        { networkMode: 'awsvpc' },
      ),
    );
    expect(layout.networkOwner).toBe('init');
  });
});
