import { fargateSizeProblem, type Cluster, type Task, type TaskDefinitionSpec } from '../../api';

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

export type FargateProfile = NonNullable<Cluster['spec']['fargateProfiles']>[number];

/** On an admitted Fargate task selected by a profile with pod settings: that profile, under whose settings it runs as a Pod. */
export const fargateProfileAnnotation = 'berth.dev/fargate-profile';

/**
 * The cluster's first Fargate profile whose selector matches the task: its namespace, and its labels with
 * those of its service (which its tasks stand for), as EKS profiles select pods.
 */
export function fargateProfileOf(task: Task, serviceLabels: Record<string, string> | undefined, cluster: Cluster): FargateProfile | undefined {
  const labels = { ...serviceLabels, ...task.metadata.labels };
  return (cluster.spec.fargateProfiles ?? []).find((profile) =>
    profile.selectors.some(
      (selector) => selector.namespace === task.metadata.namespace && Object.entries(selector.labels ?? {}).every(([key, value]) => labels[key] === value),
    ),
  );
}
