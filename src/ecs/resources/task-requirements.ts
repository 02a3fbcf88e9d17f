import type { TaskDefinitionSpec } from '../../api';
import { podIncompatibility, type Incompatibility } from '../compatibility';

export type PortProtocol = 'tcp' | 'udp';

export interface HostPort {
  port: number;
  protocol: PortProtocol;
}

/** What one task takes from the container instance it runs on. */
export interface TaskRequirements {
  /** CPU units (1024 = one vCPU). */
  cpu: number;
  /** MiB. */
  memory: number;
  /** Static host ports; a dynamic host port is chosen by the engine at start and never conflicts. */
  hostPorts: HostPort[];
  networkMode: TaskDefinitionSpec['networkMode'];
}

/** What placement checks besides resources: which data planes can take the task. */
export interface PlacementRequirements extends TaskRequirements {
  /** Why the task cannot run as a Pod, which keeps it off Nodes; undefined when it can. */
  podIncompatibility?: Incompatibility;
  /** It mounts a path of its host (a volume's host.sourcePath): only Node groups that allow host paths take it. */
  usesHostPaths: boolean;
}

/**
 * The instance resources a task definition reserves, as ECS accounts them: the task-level cpu and
 * memory when set, else the sum over its containers. A container reserves its memoryReservation (the
 * soft limit) when it has one, else its hard memory limit, which is what lets soft limits share an instance.
 */
export function taskRequirements(spec: TaskDefinitionSpec): TaskRequirements {
  const containers = spec.containerDefinitions;
  return {
    cpu: spec.cpu ?? sum(containers.map((container) => container.cpu ?? 0)),
    memory: spec.memory ?? sum(containers.map((container) => container.memoryReservation ?? container.memory ?? 0)),
    hostPorts: staticHostPorts(spec),
    networkMode: spec.networkMode,
  };
}

/**
 * A task's requirements for placing it: its resources and the data planes it can use. Worked out once per
 * task placed, not with the resource accounting that runs for every task on every instance.
 */
export function placementRequirements(spec: TaskDefinitionSpec): PlacementRequirements {
  const problem = podIncompatibility(spec);
  return {
    ...taskRequirements(spec),
    ...(problem && { podIncompatibility: problem }),
    usesHostPaths: (spec.volumes ?? []).some((v) => v.host?.sourcePath !== undefined),
  };
}

/**
 * In bridge mode only a hostPort above 0 is static (absent or 0 is dynamic). In host mode the container
 * binds the instance's own port, so every mapping takes its port. awsvpc and none give the task its
 * own network namespace (or none), so they take no instance port.
 */
function staticHostPorts(spec: TaskDefinitionSpec): HostPort[] {
  const ports = new Map<string, HostPort>();
  for (const container of spec.containerDefinitions) {
    for (const mapping of container.portMappings ?? []) {
      const port = hostPortOf(spec.networkMode, mapping.containerPort, mapping.hostPort);
      if (port !== undefined) ports.set(`${port}/${mapping.protocol}`, { port, protocol: mapping.protocol });
    }
  }
  return [...ports.values()];
}

function hostPortOf(networkMode: TaskRequirements['networkMode'], containerPort: number, hostPort: number | undefined): number | undefined {
  switch (networkMode) {
    case 'bridge':
      return hostPort !== undefined && hostPort > 0 ? hostPort : undefined;
    case 'host':
      return hostPort || containerPort;
    case 'awsvpc':
    case 'none':
      return undefined;
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
