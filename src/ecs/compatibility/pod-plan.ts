/**
 * Whether a task definition revision can run as one Pod, and if so how its containers are laid out in it.
 * ECS computes a task definition's `compatibilities` from what each launch type can run; Berth does the same
 * for its two data planes. Docker runs everything Berth accepts. A Pod cannot express everything: what it
 * cannot is never turned into a silently different Pod, so this names the first field that rules the Pod
 * out, with the reason, and the controllers keep such a task off Nodes (it waits, with that reason).
 *
 * `dependsOn` is where the shapes differ most. A Pod starts its init containers one at a time, in order,
 * and its other containers only once every init container has completed (or, for a native sidecar — an init
 * container with restartPolicy Always — started, and passed its startup probe when it has one). So:
 *
 *   - a container others wait to COMPLETE or SUCCEED for becomes an init container (it runs to its end
 *     before the next starts);
 *   - a container others wait to START or to be HEALTHY for becomes a native sidecar (with a startup probe
 *     from its healthCheck when someone waits for HEALTHY), and keeps running beside the task;
 *   - everything else is an ordinary container, started once the above are done.
 *
 * Every dependency target is thus an init container or a sidecar, ordered before what waits for it; the init
 * list is a topological order (task definition order among equals), e.g.
 *
 *   migrate (COMPLETE target), proxy (HEALTHY target, depends on migrate COMPLETE), app (depends on both)
 *     → init: [migrate (init), proxy (sidecar with startup probe)], main: [app]
 *
 * What that cannot express: a container waited for both to START/HEALTHY and to COMPLETE/SUCCEED (a Pod runs it
 * either alongside or before the others, not both); an essential one waited for to COMPLETE (an init
 * container's exit does not stop the task, an essential container's must); a healthCheck on one waited for
 * to COMPLETE (Kubernetes gives plain init containers no probe); a dependency cycle.
 */
import type { ContainerDefinition, TaskDefinitionSpec } from '../../api';

/** Why a revision cannot run on a data plane: the field of the task definition, and the reason. */
export interface Incompatibility {
  /** A path into the task definition, e.g. `spec.containerDefinitions[1].ulimits`. */
  field: string;
  reason: string;
}

export type PodContainerRole = 'init' | 'sidecar' | 'container';

export interface PodContainerPlan {
  /** Init containers and native sidecars, in the order the kubelet starts them. */
  initContainers: { name: string; role: 'init' | 'sidecar'; healthGated: boolean }[];
  /** Ordinary containers, in task definition order. */
  containers: string[];
}

const containerField = (index: number, rest: string) => `spec.containerDefinitions[${index}].${rest}`;

export function isIncompatibility(value: PodContainerPlan | Incompatibility): value is Incompatibility {
  return 'reason' in value;
}

/** The layout of the task's containers in a Pod, or why its dependsOn graph has none. */
export function podContainerPlan(spec: TaskDefinitionSpec): PodContainerPlan | Incompatibility {
  const definitions = spec.containerDefinitions;
  const indexOf = new Map(definitions.map((c, i) => [c.name, i]));
  const waitedFor = new Map<string, { runToEnd: boolean; alongside: boolean; healthy: boolean }>();
  for (const [index, container] of definitions.entries()) {
    for (const [d, dependency] of (container.dependsOn ?? []).entries()) {
      const mark = waitedFor.get(dependency.containerName) ?? { runToEnd: false, alongside: false, healthy: false };
      const runToEnd = dependency.condition === 'COMPLETE' || dependency.condition === 'SUCCESS';
      if ((runToEnd && mark.alongside) || (!runToEnd && mark.runToEnd)) {
        return {
          field: containerField(index, `dependsOn[${d}]`),
          reason: `containers wait for ${dependency.containerName} both to start and to exit: a Pod runs it either alongside the others (a sidecar) or before them (an init container), not both`,
        };
      }
      waitedFor.set(dependency.containerName, {
        runToEnd: mark.runToEnd || runToEnd,
        alongside: mark.alongside || !runToEnd,
        healthy: mark.healthy || dependency.condition === 'HEALTHY',
      });
    }
  }
  for (const [name, mark] of waitedFor) {
    const index = indexOf.get(name)!;
    const definition = definitions[index];
    if (mark.runToEnd && definition.essential) {
      return {
        field: containerField(index, 'essential'),
        reason: `${name} is essential and others wait for it to exit: on a Pod it would be an init container, whose exit does not stop the task`,
      };
    }
    if (mark.runToEnd && definition.healthCheck) {
      return {
        field: containerField(index, 'healthCheck'),
        reason: `others wait for ${name} to exit, so on a Pod it is an init container, which Kubernetes gives no health probe`,
      };
    }
  }
  const ordered: PodContainerPlan['initContainers'] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): Incompatibility | undefined => {
    if (state.get(name) === 'done') return undefined;
    const index = indexOf.get(name)!;
    if (state.get(name) === 'visiting') return { field: containerField(index, 'dependsOn'), reason: `the dependsOn of ${name} form a cycle` };
    state.set(name, 'visiting');
    for (const dependency of definitions[index].dependsOn ?? []) {
      const problem = visit(dependency.containerName);
      if (problem) return problem;
    }
    state.set(name, 'done');
    const mark = waitedFor.get(name);
    if (mark) ordered.push({ name, role: mark.runToEnd ? 'init' : 'sidecar', healthGated: mark.healthy });
    return undefined;
  };
  for (const definition of definitions) {
    const problem = visit(definition.name);
    if (problem) return problem;
  }
  return { initContainers: ordered, containers: definitions.filter((c) => !waitedFor.has(c.name)).map((c) => c.name) };
}

/** Log drivers whose logs the kubelet keeps the same way: on the node, read with `kubectl logs`. */
const nodeLocalLogDrivers = new Set(['json-file', 'local']);

/** A numeric uid, or uid:gid: all a Pod's securityContext can say (runAsUser / runAsGroup). */
export const numericUser = /^(\d+)(?::(\d+))?$/;

function containerIncompatibility(container: ContainerDefinition, index: number): Incompatibility | undefined {
  if (container.ulimits?.length) return { field: containerField(index, 'ulimits'), reason: 'Kubernetes sets no per-container ulimits' };
  if (container.dockerLabels && Object.keys(container.dockerLabels).length > 0) {
    return { field: containerField(index, 'dockerLabels'), reason: "a Pod's containers carry no labels of their own" };
  }
  const log = container.logConfiguration;
  if (log && !nodeLocalLogDrivers.has(log.logDriver)) {
    return {
      field: containerField(index, 'logConfiguration.logDriver'),
      reason: `the kubelet keeps container logs on the node; it has no ${log.logDriver} log driver`,
    };
  }
  if (log?.options && Object.keys(log.options).length > 0) {
    return { field: containerField(index, 'logConfiguration.options'), reason: 'the kubelet rotates container logs by its own settings, not per container' };
  }
  if (container.user !== undefined && !numericUser.test(container.user)) {
    return { field: containerField(index, 'user'), reason: 'a Pod runs a container as a numeric uid (and gid), not a user name' };
  }
  return undefined;
}

function volumeIncompatibility(spec: TaskDefinitionSpec): Incompatibility | undefined {
  for (const [index, volume] of (spec.volumes ?? []).entries()) {
    const docker = volume.dockerVolumeConfiguration;
    if (!docker) continue;
    const field = (rest: string) => `spec.volumes[${index}].dockerVolumeConfiguration.${rest}`;
    if (docker.scope === 'shared')
      return { field: field('scope'), reason: "a shared Docker volume outlives its task on the instance; a Pod's volumes end with the Pod" };
    if (docker.driver !== undefined && docker.driver !== 'local') return { field: field('driver'), reason: 'Kubernetes has no Docker volume drivers' };
    if (docker.driverOpts && Object.keys(docker.driverOpts).length > 0)
      return { field: field('driverOpts'), reason: 'Kubernetes has no Docker volume drivers' };
    if (docker.labels && Object.keys(docker.labels).length > 0) return { field: field('labels'), reason: "a Pod's volumes carry no labels" };
  }
  return undefined;
}

/** The first field of the revision a Pod cannot express, or undefined when it runs as a Pod unchanged. */
export function podIncompatibility(spec: TaskDefinitionSpec): Incompatibility | undefined {
  if (spec.networkMode === 'none') return { field: 'spec.networkMode', reason: 'a Pod always has a network' };
  for (const [index, container] of spec.containerDefinitions.entries()) {
    const problem = containerIncompatibility(container, index);
    if (problem) return problem;
  }
  const volumes = volumeIncompatibility(spec);
  if (volumes) return volumes;
  const plan = podContainerPlan(spec);
  return isIncompatibility(plan) ? plan : undefined;
}
