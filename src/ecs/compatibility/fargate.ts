import { fargateSizeProblem, type TaskDefinitionSpec } from '../../api';

/**
 * What keeps a revision off Fargate, as ECS refuses RunTask with launchType FARGATE: its network mode
 * must be awsvpc (a namespace per task) and its task-level cpu and memory one of Fargate's sizes. The
 * TaskDefinition schema checks the same when it says `requiresCompatibilities: [FARGATE]`; a revision
 * that does not is judged here, at launch.
 */
export function fargateLaunchProblem(spec: TaskDefinitionSpec): string | undefined {
  const why =
    spec.networkMode !== 'awsvpc'
      ? `networkMode is ${spec.networkMode}, and Fargate needs awsvpc`
      : spec.cpu === undefined || spec.memory === undefined
        ? 'Fargate needs the task-level cpu and memory'
        : fargateSizeProblem(spec.cpu, spec.memory);
  return why && `Task definition does not support launch_type FARGATE: ${why}`;
}
