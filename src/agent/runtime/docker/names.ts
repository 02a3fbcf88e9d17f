/**
 * Deterministic Docker object names. A container's name is a function of its task (namespace, name and
 * uid) and container name only, so the engine itself refuses a second create for the same container,
 * whichever agent (or restarted agent) attempts it. The uid keeps apart what merely shares a name: a
 * task recreated under a name that a deleted task's containers still hold, or another Berth's task of
 * the same name on a shared engine.
 */
import { createHash } from 'node:crypto';

/** Docker accepts longer names; this keeps `docker ps` readable and leaves room under every tool's limit. */
export const maxNameLength = 100;
const hashLength = 10;

export interface TaskIdentity {
  namespace: string;
  taskName: string;
  taskUid: string;
}

/** `berth-<namespace>-<task>-<first 8 of the uid>-<container>`. */
export function containerName(task: TaskIdentity, container: string): string {
  return boundedName(['berth', task.namespace, task.taskName, uidPrefix(task), container]);
}

/** The Docker volume of a task-scoped volume of the task definition. */
export function taskVolumeName(task: TaskIdentity, volume: string): string {
  return boundedName(['berth', task.namespace, task.taskName, uidPrefix(task), 'volume', volume]);
}

function uidPrefix(task: TaskIdentity): string {
  return task.taskUid.replace(/-/g, '').slice(0, 8);
}

/**
 * Namespaces, task names and container names are all valid in Docker names (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`);
 * a name that would be too long keeps its readable start and ends with a hash of the whole, so two
 * different long names never truncate to the same one.
 */
function boundedName(parts: string[]): string {
  const full = parts.join('-');
  if (full.length <= maxNameLength) return full;
  const hash = createHash('sha256').update(parts.join('/')).digest('hex').slice(0, hashLength);
  return `${full.slice(0, maxNameLength - hashLength - 1)}-${hash}`;
}
