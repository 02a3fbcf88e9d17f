/**
 * What each volume of a task definition becomes on a Docker engine: a bind mount of a host path, a
 * Docker volume that lives and dies with the task, or a shared Docker volume that outlives it.
 */
import type { TaskDefinitionSpec } from '../../../api';
import type { TaskLaunch } from '../../task-runtime';
import { taskVolumeLabels } from './labels';
import { taskVolumeName } from './names';

export type VolumePlan =
  | { kind: 'bind'; hostPath: string }
  | {
      kind: 'docker';
      dockerName: string;
      /** task: created for the task and removed with it; shared: named as in the task definition, kept. */
      scope: 'task' | 'shared';
      /** Only for shared volumes: create it when missing instead of failing. */
      autoprovision: boolean;
      driver?: string;
      driverOpts?: Record<string, string>;
      labels: Record<string, string>;
    };

type TaskVolume = NonNullable<TaskDefinitionSpec['volumes']>[number];

export function volumePlans(launch: TaskLaunch): Map<string, VolumePlan> {
  return new Map((launch.spec.volumes ?? []).map((volume) => [volume.name, volumePlan(launch, volume)]));
}

function volumePlan(launch: TaskLaunch, volume: TaskVolume): VolumePlan {
  if (volume.host?.sourcePath !== undefined) return { kind: 'bind', hostPath: volume.host.sourcePath };
  const config = volume.dockerVolumeConfiguration;
  const scope = config?.scope ?? 'task';
  return {
    kind: 'docker',
    dockerName: scope === 'shared' ? volume.name : taskVolumeName(launch, volume.name),
    scope,
    autoprovision: config?.autoprovision ?? false,
    ...(config?.driver !== undefined && { driver: config.driver }),
    ...(config?.driverOpts !== undefined && { driverOpts: config.driverOpts }),
    // A shared volume outlives the task, so it must not carry the task's labels (remove() would take it).
    labels: { ...config?.labels, ...(scope === 'task' ? taskVolumeLabels(launch) : {}) },
  };
}
