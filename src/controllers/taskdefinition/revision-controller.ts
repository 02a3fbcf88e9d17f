import type { Manager } from '../../runtime/manager';
import { keyOf, type ObjectKey } from '../../runtime/object-key';
import type { ReconcileContext } from '../../runtime/controller';
import { controllerRevisions } from '../../store/builtin-types';
import type { ObjectStore } from '../../store/object-store';
import { revisionsOfFamily } from './indexes';
import { FamilyInformers, retentionOf } from './retention';
import { inactiveAmong, revisionsUsedByService, revisionsUsedByTask } from './revision-users';
import { ControllerRevision, familyOf, isInactive, isTaskDefinitionRevision, revisionFinalizer, revisionRef } from '../../ecs/revisions/revisions';

export interface RevisionControllerDeps extends FamilyInformers {
  store: ObjectStore;
}

/**
 * Deregistration of single revisions. Deleting a revision's ControllerRevision only marks it
 * INACTIVE, because every revision carries `revisionFinalizer`; this controller removes the
 * finalizer once nothing needs the revision any more (retention.ts), and the API server then
 * removes it, as it does a PersistentVolumeClaim no Pod uses.
 */
export class RevisionReconciler {
  constructor(private readonly deps: RevisionControllerDeps) {}

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<void> {
    const revision = this.deps.revisions.get(key.namespace, key.name);
    if (!revision || !isTaskDefinitionRevision(revision)) return;
    const finalizers = revision.metadata.finalizers ?? [];
    if (!isInactive(revision)) {
      // Revisions registered before they carried the finalizer would vanish at once when deleted, even in use.
      if (!finalizers.includes(revisionFinalizer)) await this.setFinalizers(revision, [...finalizers, revisionFinalizer]);
      return;
    }
    if (!finalizers.includes(revisionFinalizer) || retentionOf(revision, this.deps) !== undefined) return;
    await this.setFinalizers(
      revision,
      finalizers.filter((f) => f !== revisionFinalizer),
    );
    context.log.info('released deregistered revision', { revision: revisionRef(revision) });
  }

  /**
   * A whole-object update, never a patch: the API server applies a patch to its own re-encoding of the
   * object, which escapes `&`, `<` and `>` in `data`, and then refuses the write because the immutable
   * `data` is no longer byte for byte what was stored. An update sends `data` back as it was written.
   */
  private async setFinalizers(revision: ControllerRevision, finalizers: string[]): Promise<void> {
    await this.deps.store.update(controllerRevisions, { ...revision, metadata: { ...revision.metadata, finalizers } });
  }
}

/** Wires the revision controller; the caller has registered the indexes (`indexFamilies`). */
export function addRevisionController(manager: Manager, deps: RevisionControllerDeps): void {
  const reconciler = new RevisionReconciler(deps);
  const inactiveOfFamily = (namespace: string | undefined, family: string): ObjectKey[] =>
    revisionsOfFamily(deps.revisions, namespace, family).filter(isInactive).map(keyOf);
  manager
    .addController({ name: 'taskdefinition-revision', reconcile: (key, context) => reconciler.reconcile(key, context) })
    // A newer revision, or one gone, can end the retention of the family's newest INACTIVE one.
    .watch(deps.revisions, (revision) =>
      isTaskDefinitionRevision(revision) ? [keyOf(revision), ...inactiveOfFamily(revision.metadata.namespace, revision.data.family)] : [],
    )
    // So can the family's last living TaskDefinition going.
    .watch(deps.taskDefinitions, (td) => inactiveOfFamily(td.metadata.namespace, familyOf(td)))
    .watch(deps.services, (service) => inactiveAmong(deps.revisions, service.metadata.namespace, revisionsUsedByService(service)).map(keyOf))
    .watch(deps.tasks, (task) => inactiveAmong(deps.revisions, task.metadata.namespace, revisionsUsedByTask(task)).map(keyOf));
}
