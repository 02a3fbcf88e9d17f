/**
 * The shape of a task that a runtime needs to order, gate and report its containers: who waits for
 * whom, who owns the task's network namespace, which ports each container declared. Derived from the
 * task definition alone, so it is the same on every call for one task. The Docker runtime also stores
 * it on every container (a label), which lets `observe`, `list` and `stop` work without the launch.
 */
import type { ContainerDefinition, TaskDefinitionSpec } from '../../api';

/**
 * ECS's dependsOn conditions, plus CREATE: the dependency exists. Berth adds CREATE (as the ECS agent
 * does internally) for containers that mount another's volumes, which Docker resolves at create time.
 */
export type DependencyCondition = 'CREATE' | 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';

export interface Dependency {
  containerName: string;
  condition: DependencyCondition;
}

export interface DeclaredPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface LayoutContainer {
  name: string;
  /** dependsOn plus the implicit dependencies of volumesFrom and of the awsvpc network owner. */
  dependencies: Dependency[];
  hasHealthCheck: boolean;
  ports: DeclaredPort[];
}

export type NetworkMode = TaskDefinitionSpec['networkMode'];

export interface TaskLayout {
  networkMode: NetworkMode;
  /** awsvpc: the container whose network namespace the others join, and which publishes every port. */
  networkOwner?: string;
  /** In task definition order. */
  containers: LayoutContainer[];
}

export function taskLayout(spec: TaskDefinitionSpec): TaskLayout {
  const owner = spec.networkMode === 'awsvpc' ? networkOwner(spec.containerDefinitions) : undefined;
  return {
    networkMode: spec.networkMode,
    ...(owner !== undefined && { networkOwner: owner }),
    containers: spec.containerDefinitions.map((definition) => ({
      name: definition.name,
      dependencies: dependenciesOf(definition, owner),
      hasHealthCheck: definition.healthCheck !== undefined,
      ports: (definition.portMappings ?? []).map((p) => ({ containerPort: p.containerPort, protocol: p.protocol })),
    })),
  };
}

/**
 * The awsvpc namespace owner must start before everyone else, so it is a container without dependsOn;
 * an essential one is preferred because the namespace dies with its owner, and an essential
 * container's exit stops the task anyway. Validation guarantees an acyclic dependsOn, hence one exists.
 */
function networkOwner(containers: ContainerDefinition[]): string {
  const independent = containers.filter((c) => (c.dependsOn ?? []).length === 0);
  const owner = independent.find((c) => c.essential !== false) ?? independent[0] ?? containers[0];
  return owner.name;
}

function dependenciesOf(definition: ContainerDefinition, owner: string | undefined): Dependency[] {
  const dependencies: Dependency[] = (definition.dependsOn ?? []).map((d) => ({ containerName: d.containerName, condition: d.condition }));
  const add = (containerName: string, condition: DependencyCondition): void => {
    if (!dependencies.some((d) => d.containerName === containerName)) dependencies.push({ containerName, condition });
  };
  for (const source of definition.volumesFrom ?? []) add(source.sourceContainer, 'CREATE');
  if (owner !== undefined && owner !== definition.name) add(owner, 'START');
  return dependencies;
}
