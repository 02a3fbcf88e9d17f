import { services, taskDefinitions, tasks, type Service, type Task, type TaskDefinition, type TaskDefinitionSpec, type TaskDefinitionStatus } from '../../api';
import { dataPlanesOf, ecsCompatibilities } from '../../ecs/compatibility';
import type { EventRecorder } from '../../runtime/events';
import { MutationCache } from '../../runtime/mutation-cache';
import type { ReferencedObjects } from '../../runtime/referenced-objects';
import type { Manager } from '../../runtime/manager';
import { formatKey, keyOf, type ObjectKey } from '../../runtime/object-key';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { configMaps, controllerRevisions, secrets, serviceAccounts } from '../../store/builtin-types';
import { isStoreError, KubeObject, ObjectStore, ResourceType, StoreError } from '../../store/object-store';
import { withFinalizer, withoutFinalizer } from '../shared/finalizers';
import { Condition, DesiredCondition, setConditions } from '../../ecs/conditions';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { revisionsOfFamily, revisionsRegisteredBy, taskDefinitionsOfFamily } from './indexes';
import { familyOwner } from './ownership';
import { referencesOf, unresolvedReferences, type Reference } from '../../ecs/revisions/references';
import { FamilyInformers, indexFamilies, retentionOf } from './retention';
import { addRevisionController } from './revision-controller';
import { latestActiveRevision } from '../../ecs/revisions/revision-state';
import { inactiveAmong, revisionsUsedByService, revisionsUsedByTask } from './revision-users';
import {
  buildRevision,
  ControllerRevision,
  familyOf,
  isInactive,
  isTaskDefinitionRevision,
  planRevision,
  registrantUid,
  revisionRef,
} from '../../ecs/revisions/revisions';

export const taskDefinitionFinalizer = 'berth.dev/task-definition';

/** ECS's family format; spec.family is checked by the schema, a family defaulted from metadata.name is not. */
const validFamily = /^[A-Za-z0-9_-]{1,255}$/;

export interface TaskDefinitionControllerDeps extends FamilyInformers {
  store: ObjectStore;
  events: EventRecorder;
  /** Only the Secrets, ConfigMaps and ServiceAccounts that task definitions name are watched, one by one. */
  secrets: ReferencedObjects<KubeObject>;
  configMaps: ReferencedObjects<KubeObject>;
  serviceAccounts: ReferencedObjects<KubeObject>;
  now?: () => Date;
}

type StatusFields = Pick<TaskDefinitionStatus, 'family' | 'revision' | 'status' | 'inactiveRevisions' | 'compatibilities' | 'dataPlanes'>;

/** The fields of an object that registers nothing (yet): a family at most. */
const unregistered = (family: string | undefined): StatusFields => ({
  family,
  revision: undefined,
  status: undefined,
  inactiveRevisions: undefined,
  compatibilities: undefined,
  dataPlanes: undefined,
});

/**
 * Registers task definition revisions. Each spec change of the TaskDefinition that owns a family
 * (ownership.ts) becomes an immutable revision `family:N`; status names the latest ACTIVE one and the
 * INACTIVE ones still stored. Any other object claiming the family registers nothing and says why.
 * Deleting the TaskDefinition deregisters the family: every revision it registered turns INACTIVE,
 * and the object goes once the revision controller has released them all.
 */
export class TaskDefinitionReconciler {
  private readonly now: () => Date;
  /** TaskDefinitions as this controller last wrote them, so a reconcile before the watch shows a write starts from it. */
  private readonly written: MutationCache<TaskDefinition>;

  constructor(private readonly deps: TaskDefinitionControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.written = new MutationCache(deps.taskDefinitions);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const taskDefinition = this.written.get(key.namespace, key.name);
    if (!taskDefinition) {
      this.followReferences(key, []);
      return;
    }
    const family = familyOf(taskDefinition);
    if (taskDefinition.metadata.deletionTimestamp) return this.deregister(taskDefinition, family, context);
    if (!taskDefinition.metadata.finalizers?.includes(taskDefinitionFinalizer)) {
      // The update wakes this controller again, with the finalizer in the cache.
      const written = await this.deps.store.update(taskDefinitions, withFinalizer(taskDefinition, taskDefinitionFinalizer));
      this.written.mutated(written);
      return;
    }

    if (!validFamily.test(family)) {
      // Only a defaulted family can be invalid: the schema checks spec.family itself.
      await this.writeStatus(taskDefinition, unregistered(undefined), [
        {
          type: 'Registered',
          status: 'False',
          reason: 'InvalidFamily',
          message: `metadata.name "${family}" is not a valid family (letters, digits, _ and -, up to 255): set spec.family`,
          observedGeneration: taskDefinition.metadata.generation,
        },
      ]);
      return;
    }
    const stored = revisionsOfFamily(this.deps.revisions, key.namespace, family);
    const owner = familyOwner(taskDefinitionsOfFamily(this.deps.taskDefinitions, key.namespace, family), stored)!;
    const references = this.referencesCondition(taskDefinition);
    if (owner.metadata.uid !== taskDefinition.metadata.uid) return this.reportConflict(taskDefinition, family, owner, stored, references);

    const { revisions, registered } = await this.register(taskDefinition, family, stored, context);
    // An INACTIVE revision nothing keeps is on its way out: listing it would only add a write.
    const kept = keptRevisions(revisions.filter(isInactive), (revision) => retentionOf(revision, this.deps, revisions));
    const latest = latestActiveRevision(revisions, key.namespace, family);
    const latestSpec = latest?.data.spec as TaskDefinitionSpec | undefined;
    const fields: StatusFields = {
      family,
      revision: latest?.revision,
      status: 'ACTIVE',
      inactiveRevisions: kept.length > 0 ? kept.map(({ revision }) => revision.revision) : undefined,
      compatibilities: latestSpec && ecsCompatibilities(latestSpec),
      dataPlanes: latestSpec && dataPlanesOf(latestSpec),
    };
    if (await this.writeStatus(taskDefinition, fields, references ? [registered, references] : [registered])) {
      await this.announceReferences(taskDefinition, references);
      const before = new Set(taskDefinition.status?.inactiveRevisions ?? []);
      for (const { revision, reason } of kept.filter(({ revision }) => !before.has(revision.revision))) {
        const message = `${revisionRef(revision)} is INACTIVE: new services and tasks cannot use it; kept (${reason})`;
        await this.deps.events.event(taskDefinition, 'Normal', 'RevisionDeregistered', message);
      }
    }
  }

  /** Another object owns the family: register nothing, say so once in status and once as a Warning. */
  private async reportConflict(
    taskDefinition: TaskDefinition,
    family: string,
    owner: TaskDefinition,
    stored: ControllerRevision[],
    references: DesiredCondition | undefined,
  ): Promise<void> {
    const why = stored.some((r) => registrantUid(r) === owner.metadata.uid) ? 'which registered its revisions' : 'the oldest object claiming it';
    const conflict: DesiredCondition = {
      type: 'Registered',
      status: 'False',
      reason: 'FamilyConflict',
      message: `family ${family} belongs to TaskDefinition ${owner.metadata.name}, ${why}: this object registers nothing while ${owner.metadata.name} exists`,
      observedGeneration: taskDefinition.metadata.generation,
    };
    const fields = unregistered(family);
    if (!(await this.writeStatus(taskDefinition, fields, references ? [conflict, references] : [conflict]))) return;
    await this.announceReferences(taskDefinition, references);
    if (!sameCondition(conditionOf(taskDefinition, 'Registered'), conflict)) {
      await this.deps.events.event(taskDefinition, 'Warning', 'FamilyConflict', conflict.message);
    }
  }

  /** Registers the spec as a new revision unless it is the latest already; the Registered condition says which. */
  private async register(
    taskDefinition: TaskDefinition,
    family: string,
    stored: ControllerRevision[],
    context: ReconcileContext,
  ): Promise<{ revisions: ControllerRevision[]; registered: DesiredCondition }> {
    const observedGeneration = taskDefinition.metadata.generation;
    const plan = planRevision(taskDefinition.spec, stored, taskDefinition.metadata.uid!);
    if (plan.action === 'deregistered') {
      const next = `${family}:${plan.revision.revision + 1}`;
      const message = `${revisionRef(plan.revision)}, which this spec describes, is deregistered: change the spec to register ${next}`;
      return { revisions: stored, registered: { type: 'Registered', status: 'False', reason: 'RevisionDeregistered', message, observedGeneration } };
    }
    let revision: ControllerRevision;
    let revisions = stored;
    if (plan.action === 'current') {
      revision = plan.revision;
    } else {
      revision = await this.create(buildRevision(taskDefinition, family, plan.revision, plan.hash));
      revisions = [...stored, revision];
      context.log.info('registered revision', { family, revision: plan.revision });
      await this.deps.events.event(taskDefinition, 'Normal', 'RevisionRegistered', `registered ${revisionRef(revision)}`);
    }
    const message = `${revisionRef(revision)} is the latest revision`;
    return { revisions, registered: { type: 'Registered', status: 'True', reason: 'RevisionRegistered', message, observedGeneration } };
  }

  private async create(revision: ControllerRevision): Promise<ControllerRevision> {
    try {
      return await this.deps.store.create(controllerRevisions, revision);
    } catch (error) {
      // Our cache was behind: the revision exists already. Retry once the informer has caught up.
      if (isStoreError(error, 'AlreadyExists')) {
        throw new StoreError('Conflict', `revision ${revision.metadata.name} already exists; revision cache is stale`);
      }
      throw error;
    }
  }

  /** Watches what the spec references, and nothing it no longer does. */
  private followReferences(key: ObjectKey, references: Reference[]): void {
    const owner = `taskdefinition:${formatKey(key)}`;
    const named = (kind: Reference['kind']) => references.filter((r) => r.kind === kind).map((r) => ({ namespace: key.namespace!, name: r.name }));
    this.deps.secrets.setReferences(owner, named('Secret'));
    this.deps.configMaps.setReferences(owner, named('ConfigMap'));
    this.deps.serviceAccounts.setReferences(owner, named('ServiceAccount'));
  }

  /** Whether every reference resolves; undefined while one of them is not known yet (its watch is starting), which is not "missing". */
  private referencesCondition(taskDefinition: TaskDefinition): DesiredCondition | undefined {
    const namespace = taskDefinition.metadata.namespace!;
    const references = referencesOf(taskDefinition.spec);
    this.followReferences(keyOf(taskDefinition), references);
    const cache = { Secret: this.deps.secrets, ConfigMap: this.deps.configMaps, ServiceAccount: this.deps.serviceAccounts };
    if (references.some((ref) => cache[ref.kind].lookup(namespace, ref.name) === undefined)) return undefined;
    const known = (kind: Reference['kind']) => (name: string) => cache[kind].lookup(namespace, name)?.object;
    const problems = unresolvedReferences(references, namespace, {
      secret: known('Secret'),
      configMap: known('ConfigMap'),
      serviceAccount: known('ServiceAccount'),
    });
    const observedGeneration = taskDefinition.metadata.generation;
    return problems.length === 0
      ? {
          type: 'ReferencesResolved',
          status: 'True',
          reason: 'AllReferencesFound',
          message: 'every Secret, ConfigMap and ServiceAccount referenced exists',
          observedGeneration,
        }
      : { type: 'ReferencesResolved', status: 'False', reason: 'ReferenceNotFound', message: problems.join('; '), observedGeneration };
  }

  /** After a status write: warn when references just stopped resolving. */
  private async announceReferences(taskDefinition: TaskDefinition, references: DesiredCondition | undefined): Promise<void> {
    if (references?.status === 'False' && conditionOf(taskDefinition, 'ReferencesResolved')?.status !== 'False') {
      await this.deps.events.event(taskDefinition, 'Warning', 'ReferenceNotFound', references.message);
    }
  }

  /**
   * ECS DeregisterTaskDefinition of the whole family: every revision this object registered is
   * deleted, which leaves it INACTIVE for as long as the revision controller keeps it; the object
   * itself goes once they all have.
   */
  private async deregister(taskDefinition: TaskDefinition, family: string, context: ReconcileContext): Promise<ReconcileResult | void> {
    if (!taskDefinition.metadata.finalizers?.includes(taskDefinitionFinalizer)) return;
    const remaining: ControllerRevision[] = [];
    for (const revision of revisionsRegisteredBy(this.deps.revisions, taskDefinition.metadata.uid!)) {
      const after = isInactive(revision) ? revision : await this.deleteRevision(revision);
      if (after) remaining.push(after);
    }
    if (remaining.length === 0) {
      context.log.info('deregistered family', { family });
      await this.deps.store.update(taskDefinitions, withoutFinalizer(taskDefinition, taskDefinitionFinalizer));
      return;
    }
    const kept = keptRevisions(remaining, (revision) => retentionOf(revision, this.deps));
    // Revisions nothing keeps are being removed; their removal wakes this object again.
    if (kept.length === 0) return;
    const inactive = kept.filter(({ revision }) => revision.data.family === family).map(({ revision }) => revision.revision);
    await this.writeStatus(taskDefinition, { ...unregistered(family), status: 'INACTIVE', inactiveRevisions: inactive.length > 0 ? inactive : undefined }, [
      {
        type: 'Registered',
        status: 'False',
        reason: 'Deregistering',
        message: `deregistered; revisions are kept while needed: ${kept.map(({ revision, reason }) => `${revisionRef(revision)} (${reason})`).join('; ')}`,
        observedGeneration: taskDefinition.metadata.generation,
      },
    ]);
  }

  /** The revision as the delete left it (INACTIVE, held by its finalizer), or undefined once gone. */
  private async deleteRevision(revision: ControllerRevision): Promise<ControllerRevision | undefined> {
    try {
      return await this.deps.store.delete<ControllerRevision>(controllerRevisions, revision.metadata.namespace, revision.metadata.name);
    } catch (error) {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** Writes status when it changed; true when it wrote. */
  private async writeStatus(taskDefinition: TaskDefinition, fields: StatusFields, conditions: DesiredCondition[]): Promise<boolean> {
    const current = taskDefinition.status ?? {};
    const next: TaskDefinitionStatus = {
      ...current,
      ...fields,
      observedGeneration: taskDefinition.metadata.generation,
      conditions: setConditions(current.conditions, conditions, this.now()),
    };
    if (semanticallyEqual(next, current)) return false;
    this.written.mutated(await this.deps.store.updateStatus(taskDefinitions, { ...taskDefinition, status: next }));
    return true;
  }
}

/** The INACTIVE revisions something still keeps, oldest first, each with why. */
function keptRevisions(
  inactive: ControllerRevision[],
  reasonOf: (revision: ControllerRevision) => string | undefined,
): { revision: ControllerRevision; reason: string }[] {
  return [...inactive]
    .sort((a, b) => a.revision - b.revision)
    .flatMap((revision) => {
      const reason = reasonOf(revision);
      return reason ? [{ revision, reason }] : [];
    });
}

function conditionOf(taskDefinition: TaskDefinition, type: string): Condition | undefined {
  return taskDefinition.status?.conditions?.find((c) => c.type === type);
}

function sameCondition(current: Condition | undefined, desired: DesiredCondition): boolean {
  return current?.status === desired.status && current.reason === desired.reason && current.message === desired.message;
}

/** Wires the TaskDefinition and revision controllers to the manager's shared informers. */
const referenceIndex = 'berth.dev/references';
const referenceKey = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;

export function addTaskDefinitionController(manager: Manager, namespace?: string): void {
  const informer = <T extends KubeObject>(type: ResourceType) => manager.informerFor<T>(type, namespace);
  const deps: TaskDefinitionControllerDeps = {
    store: manager.store,
    events: manager.events,
    taskDefinitions: informer<TaskDefinition>(taskDefinitions),
    revisions: informer<ControllerRevision>(controllerRevisions),
    services: informer<Service>(services),
    tasks: informer<Task>(tasks),
    secrets: manager.referencedObjects(secrets),
    configMaps: manager.referencedObjects(configMaps),
    serviceAccounts: manager.referencedObjects(serviceAccounts),
  };
  indexFamilies(deps);
  const claimantsOf = (namespace: string | undefined, family: string): ObjectKey[] =>
    taskDefinitionsOfFamily(deps.taskDefinitions, namespace, family).map(keyOf);
  const registrantOf = (revision: ControllerRevision): ObjectKey[] =>
    (revision.metadata.ownerReferences ?? [])
      .filter((ref) => ref.controller && ref.kind === 'TaskDefinition')
      .map((ref) => ({ namespace: revision.metadata.namespace, name: ref.name }));
  deps.taskDefinitions.addIndexer(referenceIndex, (td) => referencesOf(td.spec).map((ref) => referenceKey(ref.kind, td.metadata.namespace, ref.name)));

  const reconciler = new TaskDefinitionReconciler(deps);
  const controller = manager.addController({ name: 'taskdefinition', reconcile: (key, context) => reconciler.reconcile(key, context) });
  for (const kind of ['Secret', 'ConfigMap', 'ServiceAccount'] as const) {
    const cache = { Secret: deps.secrets, ConfigMap: deps.configMaps, ServiceAccount: deps.serviceAccounts }[kind];
    cache.onChange(({ namespace, name }) => {
      for (const td of deps.taskDefinitions.byIndex(referenceIndex, referenceKey(kind, namespace, name))) controller.enqueue(keyOf(td));
    });
  }
  controller
    // Every claimant of the family: one's arrival, departure or deletion can change who owns it.
    .watch(deps.taskDefinitions, (td) => [keyOf(td), ...claimantsOf(td.metadata.namespace, familyOf(td))])
    .watch(deps.revisions, (revision) =>
      isTaskDefinitionRevision(revision) ? [...registrantOf(revision), ...claimantsOf(revision.metadata.namespace, revision.data.family)] : [],
    )
    // A family being deregistered names who keeps its revisions.
    .watch(deps.services, (service) => inactiveAmong(deps.revisions, service.metadata.namespace, revisionsUsedByService(service)).flatMap(registrantOf))
    .watch(deps.tasks, (task) => inactiveAmong(deps.revisions, task.metadata.namespace, revisionsUsedByTask(task)).flatMap(registrantOf));

  addRevisionController(manager, deps);
}
