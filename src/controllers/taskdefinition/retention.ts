import type { Service, Task, TaskDefinition } from '../../api';
import type { SharedInformer } from '../../runtime/informer';
import { indexRevisions, indexTaskDefinitionsByFamily, revisionsOfFamily, taskDefinitionsOfFamily } from './indexes';
import { indexRevisionUsers, usersOfRevision } from './revision-users';
import { ControllerRevision, revisionRef } from '../../ecs/revisions/revisions';

/**
 * Why a deregistered (INACTIVE) revision must stay stored, or undefined when it may go:
 * - services or tasks use it (ECS keeps them running on an INACTIVE revision);
 * - it is the newest revision of a family some TaskDefinition still registers: the next number is
 *   counted from the highest revision stored, so removing it would hand its number out again, and a
 *   spec equal to it would be registered again as if it had never been deregistered. A newer
 *   revision, or the end of the family (no living TaskDefinition claims it), lets it go.
 */
export function retentionReason(
  revision: ControllerRevision,
  familyRevisions: ControllerRevision[],
  familyLives: boolean,
  users: string[],
): string | undefined {
  if (users.length > 0) return `in use by ${users.join(', ')}`;
  const newest = familyRevisions.every((other) => other.revision <= revision.revision);
  if (familyLives && newest) return "the family's newest revision, which keeps revision numbers from going back";
  return undefined;
}

export interface FamilyInformers {
  taskDefinitions: SharedInformer<TaskDefinition>;
  revisions: SharedInformer<ControllerRevision>;
  services: SharedInformer<Service>;
  tasks: SharedInformer<Task>;
}

/**
 * retentionReason over the informer caches (their indexes registered by `indexFamilies`);
 * `familyRevisions` when the caller knows better than the cache, having just registered one.
 */
export function retentionOf(
  revision: ControllerRevision,
  informers: FamilyInformers,
  familyRevisions = revisionsOfFamily(informers.revisions, revision.metadata.namespace, revision.data.family),
): string | undefined {
  const { namespace } = revision.metadata;
  const { family } = revision.data;
  return retentionReason(
    revision,
    familyRevisions,
    taskDefinitionsOfFamily(informers.taskDefinitions, namespace, family).some((td) => !td.metadata.deletionTimestamp),
    usersOfRevision(informers.services, informers.tasks, namespace, revisionRef(revision)),
  );
}

/** Registers every index the lookups above need. */
export function indexFamilies(informers: FamilyInformers): void {
  indexTaskDefinitionsByFamily(informers.taskDefinitions);
  indexRevisions(informers.revisions);
  indexRevisionUsers(informers.services, informers.tasks);
}
