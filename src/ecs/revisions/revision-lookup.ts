import type { Task, TaskDefinitionSpec } from '../../api';
import type { SharedInformer } from '../../runtime/informer';
import { overridesProblem, withOverrides } from './overrides';
import { ControllerRevision, parseTaskDefinitionRef, revisionName } from './revisions';

/** The stored spec of `family:N` in `namespace`, from the informer cache. */
export function revisionSpec(revisions: SharedInformer<ControllerRevision>, namespace: string | undefined, ref: string): TaskDefinitionSpec | undefined {
  const { family, revision } = parseTaskDefinitionRef(ref);
  if (revision === undefined) return undefined;
  const stored = revisions.get(namespace, revisionName(family, revision));
  return stored?.data.family === family ? (stored.data.spec as unknown as TaskDefinitionSpec) : undefined;
}

/** What a task runs: its pinned revision with its overrides applied; undefined when unknown, or when the overrides cannot apply (such a task is refused). */
export function specOfTask(revisions: SharedInformer<ControllerRevision>, task: Task): TaskDefinitionSpec | undefined {
  const spec = revisionSpec(revisions, task.metadata.namespace, task.spec.taskDefinition);
  if (!spec || overridesProblem(spec, task.spec.overrides, task.spec.taskDefinition)) return undefined;
  return withOverrides(spec, task.spec.overrides);
}
