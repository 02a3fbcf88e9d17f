/**
 * The labels Berth puts on Docker objects: the port's `taskLabels` tie a container to its task and
 * instance; the task layout travels with every container so a restarted agent can gate, report and
 * stop a task from the engine alone.
 */
import { taskLabels, type TaskLaunch } from '../../task-runtime';
import type { TaskLayout } from '../task-layout';

export const layoutLabel = 'dev.berth.task-layout';
/**
 * The names (never the values) of the container's variables that came from Secrets, ConfigMaps or
 * environment files: what the engine's error messages are scrubbed of (secret-scrubber.ts), by a
 * restarted agent too.
 */
export const secretVariablesLabel = 'dev.berth.secret-variables';

export function containerLabels(launch: TaskLaunch, container: string, layout: TaskLayout): Record<string, string> {
  const secretVariables = Object.keys(launch.resolvedEnvironment[container] ?? {});
  return {
    ...taskVolumeLabels(launch),
    [taskLabels.cluster]: launch.cluster,
    [taskLabels.containerName]: container,
    [taskLabels.taskDefinition]: launch.taskDefinition,
    [layoutLabel]: JSON.stringify(layout),
    ...(secretVariables.length > 0 && { [secretVariablesLabel]: JSON.stringify(secretVariables) }),
  };
}

/** Labels of the Docker volumes that live as long as the task; `remove` finds them by these. */
export function taskVolumeLabels(launch: TaskLaunch): Record<string, string> {
  return {
    [taskLabels.taskUid]: launch.taskUid,
    [taskLabels.namespace]: launch.namespace,
    [taskLabels.taskName]: launch.taskName,
    [taskLabels.containerInstance]: launch.containerInstance,
  };
}

export function labelFilter(label: string, value: string): string {
  return `${label}=${value}`;
}

/** The layout stored on a container; undefined when the label is missing or not Berth's. */
export function layoutFromLabels(labels: Record<string, string> | undefined): TaskLayout | undefined {
  const text = labels?.[layoutLabel];
  if (text === undefined) return undefined;
  try {
    const layout = JSON.parse(text) as TaskLayout;
    return Array.isArray(layout.containers) ? layout : undefined;
  } catch {
    return undefined;
  }
}

/** The names of the label above; none when it is missing or not Berth's. */
export function secretVariablesFromLabels(labels: Record<string, string> | undefined): string[] {
  const text = labels?.[secretVariablesLabel];
  if (text === undefined) return [];
  try {
    const names: unknown = JSON.parse(text);
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
