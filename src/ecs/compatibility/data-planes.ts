/**
 * A revision's compatibilities, as ECS computes a task definition's `compatibilities` from what each launch
 * type can run, and per data plane of Berth with what rules one out.
 *   e.g. bridge mode with ulimits: compatibilities [EC2]; Docker yes, Pod no (spec.containerDefinitions[0].ulimits).
 */
import type { TaskDefinitionSpec } from '../../api';
import { fargateLaunchProblem } from './fargate';
import { podIncompatibility } from './pod-plan';

export type DataPlaneName = 'Docker' | 'Pod';

export interface DataPlaneCompatibility {
  name: DataPlaneName;
  compatible: boolean;
  /** What rules the data plane out: the field of the task definition, and why. */
  field?: string;
  reason?: string;
}

/** Docker runs every revision Berth accepts; a Pod only what it can express. */
export function dataPlanesOf(spec: TaskDefinitionSpec): DataPlaneCompatibility[] {
  const pod = podIncompatibility(spec);
  return [
    { name: 'Docker', compatible: true },
    pod ? { name: 'Pod', compatible: false, field: pod.field, reason: pod.reason } : { name: 'Pod', compatible: true },
  ];
}

/** ECS's launch types the revision can use: EC2 always (an instance runs it on some data plane), FARGATE when its network mode and size allow. */
export function ecsCompatibilities(spec: TaskDefinitionSpec): ('EC2' | 'FARGATE')[] {
  return fargateLaunchProblem(spec) === undefined ? ['EC2', 'FARGATE'] : ['EC2'];
}
