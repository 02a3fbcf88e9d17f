import type { Service, Task } from '../../api';
import type { SharedInformer } from '../../runtime/informer';
import { ControllerRevision, isInactive, isTaskDefinitionRevision, parseTaskDefinitionRef, revisionName } from '../../ecs/revisions/revisions';

/**
 * What keeps a deregistered revision: ECS lets services and tasks already on an INACTIVE revision
 * go on running (and a service scale) on it, so Berth keeps the revision while any of them refers
 * to it.
 */

const usersIndex = 'berth.dev/task-definition-revision-users';

/**
 * The revisions (`family:N`) a Service holds on to: the one its spec pins, and every revision its
 * deployments run or may roll back to. A Service being deleted holds nothing: its tasks hold theirs.
 */
export function revisionsUsedByService(service: Service): string[] {
  if (service.metadata.deletionTimestamp) return [];
  const refs = [service.spec.taskDefinition, service.status?.taskDefinition, ...(service.status?.deployments ?? []).map((d) => d.taskDefinition)];
  return [...new Set(refs.filter((ref): ref is string => ref !== undefined && parseTaskDefinitionRef(ref).revision !== undefined))];
}

/** A task needs its revision until it has STOPPED: the agent reads it to run and to stop the containers. */
export function revisionsUsedByTask(task: Task): string[] {
  return task.status?.lastStatus === 'STOPPED' ? [] : [task.spec.taskDefinition];
}

export function indexRevisionUsers(services: SharedInformer<Service>, tasks: SharedInformer<Task>): void {
  services.addIndexer(usersIndex, (service) => revisionsUsedByService(service).map((ref) => `${service.metadata.namespace ?? ''}/${ref}`));
  tasks.addIndexer(usersIndex, (task) => revisionsUsedByTask(task).map((ref) => `${task.metadata.namespace ?? ''}/${ref}`));
}

/**
 * Who uses `family:N`, for messages: `Service web`, `Task backup-1`. A service's tasks are named by
 * their service, so a service of 50 tasks reads as one user.
 */
export function usersOfRevision(services: SharedInformer<Service>, tasks: SharedInformer<Task>, namespace: string | undefined, ref: string): string[] {
  const key = `${namespace ?? ''}/${ref}`;
  const users = new Set<string>();
  for (const service of services.byIndex(usersIndex, key)) users.add(`Service ${service.metadata.name}`);
  for (const task of tasks.byIndex(usersIndex, key)) {
    const group = task.spec.group ?? '';
    users.add(group.startsWith('service:') ? `Service ${group.slice('service:'.length)}` : `Task ${task.metadata.name}`);
  }
  return [...users].sort();
}

/** The INACTIVE revisions among `refs`, from the cache: only they wait on their users. */
export function inactiveAmong(revisions: SharedInformer<ControllerRevision>, namespace: string | undefined, refs: string[]): ControllerRevision[] {
  return refs.flatMap((ref) => {
    const { family, revision } = parseTaskDefinitionRef(ref);
    const stored = revisions.get(namespace, revisionName(family, revision!));
    return stored && isTaskDefinitionRevision(stored) && stored.data.family === family && isInactive(stored) ? [stored] : [];
  });
}
