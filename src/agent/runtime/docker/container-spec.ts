/**
 * The Docker create options of one container of a task: a pure translation of the ECS container
 * definition, so every mapping (CPU units to shares, MiB to bytes, seconds to nanoseconds, port and
 * network modes) is testable without an engine.
 */
import type Dockerode from 'dockerode';
import type { ContainerDefinition } from '../../../api';
import type { TaskLaunch } from '../../task-runtime';
import type { TaskLayout } from '../task-layout';
import { containerLabels } from './labels';
import { containerName } from './names';
import type { VolumePlan } from './volumes';

export type CpuUnitsToShares = (cpuUnits: number) => number;

/** The ECS agent's mapping: one share per CPU unit, and never below Docker's minimum of 2. */
export const ecsCpuShares: CpuUnitsToShares = (cpuUnits) => Math.max(2, cpuUnits);

const mebibyte = 1024 * 1024;
const nanosecondsPerSecond = 1e9;

export interface ContainerSpecInput {
  launch: TaskLaunch;
  definition: ContainerDefinition;
  layout: TaskLayout;
  volumes: Map<string, VolumePlan>;
  cpuUnitsToShares: CpuUnitsToShares;
}

export function containerCreateOptions(input: ContainerSpecInput): Dockerode.ContainerCreateOptions {
  const { launch, definition } = input;
  const network = networkOptions(input);
  return {
    name: containerName(launch, definition.name),
    Image: definition.image,
    ...(definition.entryPoint !== undefined && { Entrypoint: definition.entryPoint }),
    ...(definition.command !== undefined && { Cmd: definition.command }),
    Env: environment(definition, launch.resolvedEnvironment[definition.name] ?? {}),
    ...(definition.workingDirectory !== undefined && { WorkingDir: definition.workingDirectory }),
    ...(definition.user !== undefined && { User: definition.user }),
    Labels: { ...definition.dockerLabels, ...containerLabels(launch, definition.name, input.layout) },
    ...(definition.healthCheck !== undefined && { Healthcheck: healthcheck(definition.healthCheck) }),
    ...(definition.stopTimeout !== undefined && { StopTimeout: definition.stopTimeout }),
    ...(network.exposedPorts && { ExposedPorts: network.exposedPorts }),
    HostConfig: {
      NetworkMode: network.mode,
      ...(network.portBindings && { PortBindings: network.portBindings }),
      ...resources(input),
      ...mounts(input),
      ...(definition.volumesFrom?.length && {
        VolumesFrom: definition.volumesFrom.map((v) => `${containerName(launch, v.sourceContainer)}${v.readOnly ? ':ro' : ''}`),
      }),
      ...(definition.ulimits?.length && {
        Ulimits: definition.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit })),
      }),
      ...(definition.logConfiguration && {
        LogConfig: { Type: definition.logConfiguration.logDriver, Config: definition.logConfiguration.options ?? {} },
      }),
      // ECS never restarts a container: an essential container that stops stops its task.
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** Plain variables first; variables from secrets and environment files win on a name clash, as in ECS. */
function environment(definition: ContainerDefinition, resolved: Record<string, string>): string[] {
  const variables = new Map<string, string>();
  for (const { name, value } of definition.environment ?? []) variables.set(name, value ?? '');
  for (const [name, value] of Object.entries(resolved)) variables.set(name, value);
  return [...variables].map(([name, value]) => `${name}=${value}`);
}

function healthcheck(check: NonNullable<ContainerDefinition['healthCheck']>): Dockerode.HealthConfig {
  return {
    Test: check.command,
    Interval: check.interval * nanosecondsPerSecond,
    Timeout: check.timeout * nanosecondsPerSecond,
    Retries: check.retries,
    ...(check.startPeriod !== undefined && { StartPeriod: check.startPeriod * nanosecondsPerSecond }),
  };
}

type PortKey = `${number}/${'tcp' | 'udp'}`;

interface NetworkOptions {
  mode: string;
  exposedPorts?: Record<PortKey, Record<string, never>>;
  portBindings?: Record<PortKey, Array<{ HostIp: string; HostPort: string }>>;
}

/**
 * awsvpc gives the task one network namespace: the owner container holds it and publishes every port
 * of the task (Docker cannot publish ports on a container that joined another's namespace). Each task
 * having its own address in ECS, its ports get dynamic host ports here, so every task can use the same
 * container port.
 */
function networkOptions({ launch, definition, layout }: ContainerSpecInput): NetworkOptions {
  switch (layout.networkMode) {
    case 'host':
    case 'none':
      return { mode: layout.networkMode };
    case 'bridge':
      return { mode: 'bridge', ...publish(launch.publishAddress, definition.portMappings ?? [], (p) => p.hostPort) };
    case 'awsvpc': {
      const owner = layout.networkOwner ?? definition.name;
      if (owner !== definition.name) return { mode: `container:${containerName(launch, owner)}` };
      const taskPorts = launch.spec.containerDefinitions.flatMap((c) => c.portMappings ?? []);
      return { mode: 'bridge', ...publish(launch.publishAddress, taskPorts, () => undefined) };
    }
  }
}

type PortMapping = NonNullable<ContainerDefinition['portMappings']>[number];

/** hostPort absent or 0: an empty HostPort, for which the engine picks a free port. */
function publish(
  address: string,
  mappings: PortMapping[],
  hostPortOf: (mapping: PortMapping) => number | undefined,
): Pick<NetworkOptions, 'exposedPorts' | 'portBindings'> {
  if (mappings.length === 0) return {};
  const exposedPorts: NonNullable<NetworkOptions['exposedPorts']> = {};
  const portBindings: NonNullable<NetworkOptions['portBindings']> = {};
  for (const mapping of mappings) {
    const key: PortKey = `${mapping.containerPort}/${mapping.protocol}`;
    exposedPorts[key] = {};
    const hostPort = hostPortOf(mapping);
    (portBindings[key] ??= []).push({ HostIp: address, HostPort: hostPort ? String(hostPort) : '' });
  }
  return { exposedPorts, portBindings };
}

/**
 * cpu → relative CPU shares. A task-level cpu is a hard ceiling for the task; without task cgroups
 * Berth approximates it per container: a container is capped at its own cpu units, or at the whole
 * task's when it declares none. memory is the hard limit (the task's when the container has none) and
 * memoryReservation the soft one.
 */
function resources({ launch, definition, cpuUnitsToShares }: ContainerSpecInput): Dockerode.HostConfig {
  const taskCpu = launch.spec.cpu;
  const cpuCeiling = taskCpu === undefined ? undefined : definition.cpu || taskCpu;
  const memory = definition.memory ?? launch.spec.memory;
  return {
    CpuShares: cpuUnitsToShares(definition.cpu ?? 0),
    ...(cpuCeiling !== undefined && { NanoCpus: Math.round((cpuCeiling / 1024) * 1e9) }),
    ...(memory !== undefined && { Memory: memory * mebibyte }),
    ...(definition.memoryReservation !== undefined && { MemoryReservation: definition.memoryReservation * mebibyte }),
  };
}

/** Docker volumes as Mounts; host paths as Binds, which (like ECS) create a missing host directory. */
function mounts({ definition, volumes }: ContainerSpecInput): Pick<Dockerode.HostConfig, 'Binds' | 'Mounts'> {
  const binds: string[] = [];
  const dockerMounts: Dockerode.MountSettings[] = [];
  for (const mountPoint of definition.mountPoints ?? []) {
    const plan = volumes.get(mountPoint.sourceVolume);
    if (!plan) throw new Error(`mountPoint names volume ${mountPoint.sourceVolume}, which the task definition does not declare`);
    if (plan.kind === 'bind') {
      binds.push(`${plan.hostPath}:${mountPoint.containerPath}${mountPoint.readOnly ? ':ro' : ''}`);
    } else {
      dockerMounts.push({ Type: 'volume', Source: plan.dockerName, Target: mountPoint.containerPath, ReadOnly: mountPoint.readOnly });
    }
  }
  return { ...(binds.length > 0 && { Binds: binds }), ...(dockerMounts.length > 0 && { Mounts: dockerMounts }) };
}
