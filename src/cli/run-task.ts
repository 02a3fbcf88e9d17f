import { tasks, type Task, type TaskSpec, type TaskDefinitionSpec } from '../api';
import { overridesProblem } from '../ecs/revisions/overrides';
import { resolveForNewUse } from '../ecs/revisions/revision-state';
import { familyLabel, familySlug, parseTaskDefinitionRef, type ControllerRevision } from '../ecs/revisions/revisions';
import { controllerRevisions } from '../store/builtin-types';
import { isStoreError, type ObjectStore } from '../store/object-store';
import { connect, type Connection, type ConnectionFlags, type Lines } from './connection';
import { printObjects } from './print-objects';

/** ECS RunTask starts 1 to 10 tasks per call. */
export const maxTaskCount = 10;

export interface RunTaskFlags extends ConnectionFlags {
  /** `family` (its latest ACTIVE revision) or `family:N`. */
  taskDefinition: string;
  cluster: string;
  count: number;
  launchType?: 'EC2' | 'FARGATE';
  capacityProviderStrategy?: NonNullable<TaskSpec['capacityProviderStrategy']>;
  overrides?: TaskSpec['overrides'];
  /** ECS's default for a standalone task: `family:FAMILY`. */
  group?: string;
  startedBy?: string;
  output?: 'yaml' | 'json' | 'name';
}

/** Why RunTask was refused, worded for the user (exit 1). */
export class RunTaskError extends Error {}

/**
 * ECS RunTask: `count` standalone Tasks of one revision, as the API expects them (spec.taskDefinition
 * pinned to `family:N`, group `family:FAMILY`, desiredStatus RUNNING); the scheduler places them and
 * the agents run them. A bare family resolves to its latest ACTIVE revision here, as ECS does at the
 * call, because a Task pins its revision. A revision that does not exist or is deregistered, or
 * overrides naming a container the revision does not have, are refused before anything is created.
 * Tasks are created one by one into `created`, so a failure part way still tells which exist.
 */
export async function runTasks(store: ObjectStore, namespace: string, flags: RunTaskFlags, created: Task[] = []): Promise<Task[]> {
  const { family } = parseTaskDefinitionRef(flags.taskDefinition);
  const { items: revisions } = await store.list<ControllerRevision>(controllerRevisions, namespace, { labelSelector: `${familyLabel}=${familySlug(family)}` });
  const resolution = resolveForNewUse(revisions, namespace, flags.taskDefinition);
  if (!resolution.ok) throw new RunTaskError(`${resolution.message} in namespace ${namespace}`);
  const { revision: number } = parseTaskDefinitionRef(resolution.taskDefinition);
  const revision = revisions.find((r) => r.data.family === family && r.revision === number)!;
  const problem = overridesProblem(revision.data.spec as unknown as TaskDefinitionSpec, flags.overrides, resolution.taskDefinition);
  if (problem) throw new RunTaskError(problem);
  for (let i = 0; i < flags.count; i++) {
    const task = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { generateName: `${familySlug(family)}-`, namespace },
      spec: {
        cluster: flags.cluster,
        taskDefinition: resolution.taskDefinition,
        group: flags.group ?? `family:${family}`,
        desiredStatus: 'RUNNING',
        ...(flags.startedBy !== undefined && { startedBy: flags.startedBy }),
        ...(flags.launchType !== undefined && { launchType: flags.launchType }),
        ...(flags.capacityProviderStrategy !== undefined && { capacityProviderStrategy: flags.capacityProviderStrategy }),
        ...(flags.overrides !== undefined && { overrides: flags.overrides }),
      },
    };
    // The object names only generateName: the API server picks the name, as ECS picks the task id.
    created.push(await store.create<Task>(tasks, task as unknown as Task));
  }
  return created;
}

/** `berth run-task`: a `task.berth.dev/NAME created` line per task, or the objects with -o. */
export async function runRunTask(flags: RunTaskFlags, output: Lines, connection: Connection = connect(flags)): Promise<number> {
  const created: Task[] = [];
  const failure = await runTasks(connection.store, connection.namespace, flags, created).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  if (created.length > 0 && (flags.output === 'yaml' || flags.output === 'json')) output.out(printObjects(created, flags.output).trimEnd());
  else for (const task of created) output.out(`task.berth.dev/${task.metadata.name}${flags.output === 'name' ? '' : ' created'}`);
  if (failure === undefined) return 0;
  // Refusals (of Berth's or of the API server's admission) are the user's to read; anything else is unexpected.
  if (!(failure instanceof RunTaskError) && !isStoreError(failure)) throw failure;
  output.err(`error: ${failure.message}`);
  return 1;
}
