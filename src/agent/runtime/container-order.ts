/**
 * The orders a task's containers start and stop in, from their dependencies.
 */
import type { TaskLayout } from './task-layout';

/**
 * Dependencies before their dependents, otherwise in task definition order, so one pass over the
 * containers can start a whole chain of START dependencies.
 */
export function startOrder(layout: TaskLayout): string[] {
  const byName = new Map(layout.containers.map((c) => [c.name, c]));
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    const container = byName.get(name);
    if (!container || ordered.includes(name) || visiting.has(name)) return; // validation forbids cycles
    visiting.add(name);
    for (const dependency of container.dependencies) visit(dependency.containerName);
    ordered.push(name);
  };
  for (const container of layout.containers) visit(container.name);
  return ordered;
}

/** Why a container of a stopped task never ran, in every runtime's observations. */
export const stoppedBeforeStartReason = 'TaskStopped: the task stopped before the container started';

/**
 * Dependents before what they depend on (ECS stops containers in reverse dependsOn order), so a
 * sidecar still has its dependency while it shuts down. Containers of one wave do not depend on each
 * other and stop in parallel, which bounds a task's stop by its longest chain of stopTimeouts rather
 * than their sum.
 */
export function stopWaves(layout: TaskLayout, containerNames: readonly string[]): string[][] {
  const dependenciesOf = new Map(layout.containers.map((c) => [c.name, c.dependencies.map((d) => d.containerName)]));
  const remaining = new Set(containerNames);
  const waves: string[][] = [];
  while (remaining.size > 0) {
    const stillNeeded = new Set([...remaining].flatMap((name) => dependenciesOf.get(name) ?? []));
    const wave = [...remaining].filter((name) => !stillNeeded.has(name));
    // Validation forbids dependency cycles; should one slip through, stop the rest together rather than never.
    const next = wave.length > 0 ? wave : [...remaining];
    waves.push(next);
    for (const name of next) remaining.delete(name);
  }
  return waves;
}
