import type { TaskDefinition } from '../../api';
import type { SharedInformer } from '../../runtime/informer';
import { ControllerRevision, familyOf, isTaskDefinitionRevision, registrantUid } from '../../ecs/revisions/revisions';

/**
 * Informer indexes, so that "the TaskDefinitions claiming family web" and "the revisions of web"
 * are lookups rather than scans of every object on every reconcile. Registering an index twice is
 * a no-op, so every controller that needs one calls the same function at wiring time.
 */

const familyIndex = 'berth.dev/task-definition-family';
const registrantIndex = 'berth.dev/task-definition-registrant';

const familyKey = (namespace: string | undefined, family: string) => `${namespace ?? ''}/${family}`;

export function indexTaskDefinitionsByFamily(informer: SharedInformer<TaskDefinition>): void {
  informer.addIndexer(familyIndex, (td) => [familyKey(td.metadata.namespace, familyOf(td))]);
}

/** Every TaskDefinition whose spec.family (or name) is `family`, living or being deleted. */
export function taskDefinitionsOfFamily(informer: SharedInformer<TaskDefinition>, namespace: string | undefined, family: string): TaskDefinition[] {
  return informer.byIndex(familyIndex, familyKey(namespace, family));
}

export function indexRevisions(informer: SharedInformer<ControllerRevision>): void {
  informer.addIndexer(familyIndex, (revision) => (isTaskDefinitionRevision(revision) ? [familyKey(revision.metadata.namespace, revision.data.family)] : []));
  informer.addIndexer(registrantIndex, (revision) => {
    const uid = registrantUid(revision);
    return uid && isTaskDefinitionRevision(revision) ? [uid] : [];
  });
}

/** Every stored revision of `family`, ACTIVE and INACTIVE. */
export function revisionsOfFamily(informer: SharedInformer<ControllerRevision>, namespace: string | undefined, family: string): ControllerRevision[] {
  return informer.byIndex(familyIndex, familyKey(namespace, family));
}

/** The revisions a TaskDefinition registered, in whatever family it had then. */
export function revisionsRegisteredBy(informer: SharedInformer<ControllerRevision>, uid: string): ControllerRevision[] {
  return informer.byIndex(registrantIndex, uid);
}
