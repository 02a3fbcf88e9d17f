import type { Task, TaskDefinitionSpec } from '../../api';

/**
 * A task's `overrides` (ECS RunTask's `overrides`) against the revision it runs. ECS refuses RunTask
 * when a container override names a container the task definition does not have; Berth refuses the
 * task the same way (TaskFailedToStart) before it is placed, so the check lives beside the revisions
 * and serves both the binder and the agent.
 */
type Overrides = Task['spec']['overrides'];

/** Why these overrides cannot apply to `spec`, naming the field; undefined when they can. */
export function overridesProblem(spec: TaskDefinitionSpec, overrides: Overrides, taskDefinition: string): string | undefined {
  const names = new Set(spec.containerDefinitions.map((c) => c.name));
  const unknown = (overrides?.containerOverrides ?? []).find((o) => !names.has(o.name));
  return unknown && `overrides.containerOverrides[${unknown.name}]: task definition ${taskDefinition} has no container named ${unknown.name}`;
}

/** The spec a task runs: its revision with the overrides applied. Only for overrides `overridesProblem` accepts. */
export function withOverrides(spec: TaskDefinitionSpec, overrides: Overrides): TaskDefinitionSpec {
  if (!overrides) return spec;
  const result = structuredClone(spec);
  if (overrides.cpu !== undefined) result.cpu = overrides.cpu;
  if (overrides.memory !== undefined) result.memory = overrides.memory;
  if (overrides.taskRole !== undefined) result.taskRole = overrides.taskRole;
  for (const override of overrides.containerOverrides ?? []) {
    const container = result.containerDefinitions.find((c) => c.name === override.name);
    if (!container) throw new Error(`overrides.containerOverrides[${override.name}]: no such container (check overridesProblem first)`);
    if (override.command) container.command = override.command;
    if (override.cpu !== undefined) container.cpu = override.cpu;
    if (override.memory !== undefined) container.memory = override.memory;
    if (override.memoryReservation !== undefined) container.memoryReservation = override.memoryReservation;
    if (override.environment) {
      const byName = new Map((container.environment ?? []).map((e) => [e.name, e]));
      for (const variable of override.environment) byName.set(variable.name, variable);
      container.environment = [...byName.values()];
    }
  }
  return result;
}
