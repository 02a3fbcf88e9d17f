import type { Service, Task, TaskDefinitionSpec } from '../../api';
import type { PlacementConstraint, PlacementStrategy } from './scheduler';

export interface TaskPlacement {
  placementConstraints: PlacementConstraint[];
  placementStrategy: PlacementStrategy[];
}

/**
 * Where a task may go and how its instance is chosen: its service's constraints and strategy (a
 * standalone task's own, from RunTask), with the task definition's constraints applied as well, as
 * ECS applies both.
 */
export function taskPlacement(task: Task, service: Service | undefined, spec: TaskDefinitionSpec | undefined): TaskPlacement {
  const placement = service?.spec ?? task.spec;
  return {
    placementConstraints: [...(placement.placementConstraints ?? []), ...(spec?.placementConstraints ?? [])],
    placementStrategy: placement.placementStrategy ?? [],
  };
}
