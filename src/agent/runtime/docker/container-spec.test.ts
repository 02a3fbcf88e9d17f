import type { TaskDefinitionSpec } from '../../../api';
import { layoutLabel } from './labels';
import { containerCreateOptions, ecsCpuShares } from './container-spec';
import { taskLayout } from '../task-layout';
import { containerDefinition, taskLaunch, taskSpec, type ContainerInput } from '../testing';
import { volumePlans } from './volumes';

const mebibyte = 1024 * 1024;

function optionsFor(spec: TaskDefinitionSpec, name: string, launchOverrides = {}) {
  const launch = taskLaunch(spec, launchOverrides);
  return containerCreateOptions({
    launch,
    definition: spec.containerDefinitions.find((c) => c.name === name)!,
    layout: taskLayout(spec),
    volumes: volumePlans(launch),
    cpuUnitsToShares: ecsCpuShares,
  });
}

const single = (input: Partial<ContainerInput>, extra: Partial<TaskDefinitionSpec> = {}) => optionsFor(taskSpec([{ name: 'app', ...input }], extra), 'app');

describe('containerCreateOptions', () => {
  it('maps the process: image, entryPoint, command, workingDirectory, user, stopTimeout; never restarts', () => {
    const options = single({
      image: 'nginx:1.27',
      entryPoint: ['/docker-entrypoint.sh'],
      command: ['nginx', '-g', 'daemon off;'],
      workingDirectory: '/srv',
      user: '101:101',
      stopTimeout: 12,
    });
    expect(options).toMatchObject({
      name: 'berth-team-web-1-uid1-app',
      Image: 'nginx:1.27',
      Entrypoint: ['/docker-entrypoint.sh'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      WorkingDir: '/srv',
      User: '101:101',
      StopTimeout: 12,
    });
    expect(options.HostConfig?.RestartPolicy).toEqual({ Name: 'no' });
  });

  it('leaves the image defaults alone when the definition does not set them', () => {
    const options = single({});
    for (const key of ['Entrypoint', 'Cmd', 'WorkingDir', 'User', 'StopTimeout', 'Healthcheck', 'ExposedPorts'] as const) {
      expect(options).not.toHaveProperty(key);
    }
  });

  it('passes plain environment and resolved secrets, the resolved value winning on a clash', () => {
    const spec = taskSpec([{ name: 'app', environment: [{ name: 'MODE', value: 'prod' }, { name: 'TOKEN', value: 'placeholder' }, { name: 'EMPTY' }] }]);
    const options = optionsFor(spec, 'app', { resolvedEnvironment: { app: { TOKEN: 'from-secret', DB_URL: 'postgres://db' } } });
    expect(options.Env).toEqual(['MODE=prod', 'TOKEN=from-secret', 'EMPTY=', 'DB_URL=postgres://db']);
  });

  it('labels the container with dockerLabels and Berth’s task labels, which users cannot override', () => {
    const options = single({ dockerLabels: { team: 'payments', 'dev.berth.task-uid': 'spoofed' } });
    expect(options.Labels).toMatchObject({
      team: 'payments',
      'dev.berth.task-uid': 'uid-1',
      'dev.berth.task-name': 'web-1',
      'dev.berth.namespace': 'team',
      'dev.berth.cluster': 'default',
      'dev.berth.container-instance': 'instance-a',
      'dev.berth.container-name': 'app',
      'dev.berth.task-definition': 'web:3',
    });
    expect(JSON.parse(options.Labels![layoutLabel])).toEqual(taskLayout(taskSpec([{ name: 'app' }])));
  });

  describe('resources', () => {
    it('cpu units become shares (at least 2), memory the hard and memoryReservation the soft limit in bytes', () => {
      expect(single({ cpu: 512, memory: 256, memoryReservation: 128 }).HostConfig).toMatchObject({
        CpuShares: 512,
        Memory: 256 * mebibyte,
        MemoryReservation: 128 * mebibyte,
      });
      const unspecified = single({ memory: undefined, memoryReservation: 64 }).HostConfig!;
      expect(unspecified.CpuShares).toBe(2);
      expect(unspecified).not.toHaveProperty('Memory');
      expect(unspecified).not.toHaveProperty('NanoCpus');
    });

    it('a task-level cpu caps each container at its own cpu, or the task’s; task memory caps containers without memory', () => {
      const spec = taskSpec(
        [
          { name: 'app', cpu: 256 },
          { name: 'sidecar', memory: undefined, memoryReservation: 32 },
        ],
        { cpu: 1024, memory: 2048 },
      );
      expect(optionsFor(spec, 'app').HostConfig).toMatchObject({ CpuShares: 256, NanoCpus: 250_000_000, Memory: 64 * mebibyte });
      expect(optionsFor(spec, 'sidecar').HostConfig).toMatchObject({ CpuShares: 2, NanoCpus: 1_000_000_000, Memory: 2048 * mebibyte });
    });

    it('uses the configured CPU share mapping', () => {
      const spec = taskSpec([{ name: 'app', cpu: 1024 }]);
      const launch = taskLaunch(spec);
      const options = containerCreateOptions({
        launch,
        definition: spec.containerDefinitions[0],
        layout: taskLayout(spec),
        volumes: volumePlans(launch),
        cpuUnitsToShares: (units) => units / 4,
      });
      expect(options.HostConfig?.CpuShares).toBe(256);
    });

    it('maps ulimits', () => {
      expect(single({ ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }] }).HostConfig?.Ulimits).toEqual([
        { Name: 'nofile', Soft: 1024, Hard: 4096 },
      ]);
    });
  });

  describe('ports and network modes', () => {
    const ports: ContainerInput['portMappings'] = [
      { containerPort: 8080, protocol: 'tcp' },
      { containerPort: 8443, hostPort: 0, protocol: 'tcp' },
      { containerPort: 9000, hostPort: 19000, protocol: 'tcp' },
      { containerPort: 5353, protocol: 'udp' },
    ];

    it('bridge: publishes on the launch’s address, dynamic (empty HostPort) unless a static hostPort is given', () => {
      const options = single({ portMappings: ports }, { networkMode: 'bridge' });
      expect(options.HostConfig?.NetworkMode).toBe('bridge');
      expect(options.ExposedPorts).toEqual({ '8080/tcp': {}, '8443/tcp': {}, '9000/tcp': {}, '5353/udp': {} });
      expect(options.HostConfig?.PortBindings).toEqual({
        '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '8443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '19000' }],
        '5353/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      });
    });

    it('host and none: no published ports', () => {
      const host = single({ portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }] }, { networkMode: 'host' });
      expect(host.HostConfig?.NetworkMode).toBe('host');
      expect(host.HostConfig).not.toHaveProperty('PortBindings');
      expect(single({}, { networkMode: 'none' }).HostConfig?.NetworkMode).toBe('none');
    });

    it('awsvpc: the owner publishes every port of the task on dynamic host ports; the others join its namespace', () => {
      const spec = taskSpec(
        [
          { name: 'app', portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }] },
          { name: 'metrics', essential: false, portMappings: [{ containerPort: 9100, protocol: 'tcp' }] },
        ],
        { networkMode: 'awsvpc' },
      );
      const owner = optionsFor(spec, 'app');
      expect(owner.HostConfig?.NetworkMode).toBe('bridge');
      expect(owner.HostConfig?.PortBindings).toEqual({
        '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
        '9100/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      });
      const member = optionsFor(spec, 'metrics');
      expect(member.HostConfig?.NetworkMode).toBe('container:berth-team-web-1-uid1-app');
      expect(member.HostConfig).not.toHaveProperty('PortBindings');
      expect(member).not.toHaveProperty('ExposedPorts');
    });
  });

  describe('volumes', () => {
    const spec = taskSpec(
      [
        {
          name: 'app',
          mountPoints: [
            { sourceVolume: 'scratch', containerPath: '/scratch', readOnly: false },
            { sourceVolume: 'config', containerPath: '/etc/app', readOnly: true },
            { sourceVolume: 'cache', containerPath: '/cache', readOnly: false },
          ],
        },
        { name: 'shipper', essential: false, volumesFrom: [{ sourceContainer: 'app', readOnly: true }] },
      ],
      {
        volumes: [
          { name: 'scratch' },
          { name: 'config', host: { sourcePath: '/srv/config' } },
          { name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local' } },
        ],
      },
    );

    it('mounts task volumes as Docker volumes, host paths as binds, shared volumes by their own name', () => {
      const options = optionsFor(spec, 'app');
      expect(options.HostConfig?.Mounts).toEqual([
        { Type: 'volume', Source: 'berth-team-web-1-uid1-volume-scratch', Target: '/scratch', ReadOnly: false },
        { Type: 'volume', Source: 'cache', Target: '/cache', ReadOnly: false },
      ]);
      expect(options.HostConfig?.Binds).toEqual(['/srv/config:/etc/app:ro']);
    });

    it('mounts volumesFrom by the source’s deterministic container name', () => {
      expect(optionsFor(spec, 'shipper').HostConfig?.VolumesFrom).toEqual(['berth-team-web-1-uid1-app:ro']);
    });
  });

  it('maps the health check, seconds to nanoseconds', () => {
    const options = single({ healthCheck: { command: ['CMD-SHELL', 'wget -q localhost'], interval: 10, timeout: 3, retries: 4, startPeriod: 20 } });
    expect(options.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 10e9, Timeout: 3e9, Retries: 4, StartPeriod: 20e9 });
  });

  it('maps the log configuration', () => {
    const options = single({ logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } } });
    expect(options.HostConfig?.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m' } });
  });

  it('refuses a mountPoint naming an undeclared volume', () => {
    const definition = containerDefinition({ name: 'app', mountPoints: [{ sourceVolume: 'ghost', containerPath: '/x', readOnly: false }] });
    const spec = taskSpec([definition]);
    expect(() => optionsFor(spec, 'app')).toThrow('mountPoint names volume ghost, which the task definition does not declare');
  });
});
