import { services, taskDefinitions, type Service, type TaskDefinition, type TaskDefinitionStatus } from '../../api';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import type { ObjectKey } from '../../runtime/object-key';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { configMaps, controllerRevisions, secrets, serviceAccounts } from '../../store/builtin-types';
import { isStoreError, KubeObject, ObjectStore, ResourceType, StoreError } from '../../store/object-store';
import { DesiredCondition, setConditions } from '../shared/conditions';
import { referencesOf, unresolvedReferences } from './references';
import {
  buildRevision,
  ControllerRevision,
  familyOf,
  latestRevision,
  parseTaskDefinitionRef,
  planRevision,
  revisionName,
  revisionsOfFamily,
} from './revisions';
import { semanticallyEqual } from '../../runtime/semantic-equal';

export const taskDefinitionFinalizer = 'berth.dev/task-definition';

/** ECS's family format; spec.family is checked by the schema, a family defaulted from metadata.name is not. */
const validFamily = /^[A-Za-z0-9_-]{1,255}$/;

export interface TaskDefinitionControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  taskDefinitions: SharedInformer<TaskDefinition>;
  revisions: SharedInformer<ControllerRevision>;
  services: SharedInformer<Service>;
  secrets: SharedInformer<KubeObject>;
  configMaps: SharedInformer<KubeObject>;
  serviceAccounts: SharedInformer<KubeObject>;
  now?: () => Date;
}

/**
 * Registers task definition revisions. Each spec change of a TaskDefinition becomes an immutable
 * revision `family:N`; status names the latest. Deleting the TaskDefinition deregisters the family:
 * it turns INACTIVE and keeps its revisions while any Service still uses the family, then removes
 * them and lets the object go.
 */
export class TaskDefinitionReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: TaskDefinitionControllerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const taskDefinition = this.deps.taskDefinitions.get(key.namespace, key.name);
    if (!taskDefinition) return;
    const family = familyOf(taskDefinition);
    if (taskDefinition.metadata.deletionTimestamp) return this.deregister(taskDefinition, family, context);
    if (!taskDefinition.metadata.finalizers?.includes(taskDefinitionFinalizer)) {
      // The update wakes this controller again, with the finalizer in the cache.
      await this.deps.store.update(taskDefinitions, {
        ...taskDefinition,
        metadata: { ...taskDefinition.metadata, finalizers: [...(taskDefinition.metadata.finalizers ?? []), taskDefinitionFinalizer] },
      });
      return;
    }

    if (!validFamily.test(family)) {
      // Only a defaulted family can be invalid: the schema checks spec.family itself.
      await this.writeStatus(taskDefinition, { family: undefined, revision: undefined, status: undefined }, [
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
    const revision = await this.ensureRevision(taskDefinition, family, context);
    const problems = unresolvedReferences(referencesOf(taskDefinition.spec), key.namespace!, {
      secret: (name) => this.deps.secrets.get(key.namespace, name),
      configMap: (name) => this.deps.configMaps.get(key.namespace, name),
      serviceAccount: (name) => this.deps.serviceAccounts.get(key.namespace, name),
    });
    const conditions: DesiredCondition[] = [
      {
        type: 'Registered',
        status: 'True',
        reason: 'RevisionRegistered',
        message: `${family}:${revision.revision} is the latest revision`,
        observedGeneration: taskDefinition.metadata.generation,
      },
      problems.length === 0
        ? {
            type: 'ReferencesResolved',
            status: 'True',
            reason: 'AllReferencesFound',
            message: 'every Secret, ConfigMap and ServiceAccount referenced exists',
            observedGeneration: taskDefinition.metadata.generation,
          }
        : {
            type: 'ReferencesResolved',
            status: 'False',
            reason: 'ReferenceNotFound',
            message: problems.join('; '),
            observedGeneration: taskDefinition.metadata.generation,
          },
    ];
    const wasResolved = taskDefinition.status?.conditions?.find((c) => c.type === 'ReferencesResolved')?.status;
    if (problems.length > 0 && wasResolved !== 'False') {
      await this.deps.events.event(taskDefinition, 'Warning', 'ReferenceNotFound', problems.join('; '));
    }
    await this.writeStatus(taskDefinition, { family, revision: revision.revision, status: 'ACTIVE' }, conditions);
  }

  private async ensureRevision(taskDefinition: TaskDefinition, family: string, context: ReconcileContext): Promise<ControllerRevision> {
    const existing = revisionsOfFamily(this.deps.revisions.list(taskDefinition.metadata.namespace), family);
    const plan = planRevision(taskDefinition.spec, existing);
    if (plan.action === 'current') return plan.revision;
    const revision = buildRevision(taskDefinition, family, plan.revision, plan.hash);
    try {
      const created = await this.deps.store.create(controllerRevisions, revision);
      context.log.info('registered revision', { family, revision: plan.revision });
      await this.deps.events.event(taskDefinition, 'Normal', 'RevisionRegistered', `registered ${family}:${plan.revision}`);
      return created;
    } catch (error) {
      // Our cache was behind: the revision exists already. Retry once the informer has caught up.
      if (isStoreError(error, 'AlreadyExists')) {
        throw new StoreError('Conflict', `revision ${revisionName(family, plan.revision)} already exists; revision cache is stale`);
      }
      throw error;
    }
  }

  private async deregister(taskDefinition: TaskDefinition, family: string, context: ReconcileContext): Promise<ReconcileResult | void> {
    if (!taskDefinition.metadata.finalizers?.includes(taskDefinitionFinalizer)) return;
    const users = this.deps.services
      .list(taskDefinition.metadata.namespace)
      .filter((service) => !service.metadata.deletionTimestamp && parseTaskDefinitionRef(service.spec.taskDefinition).family === family)
      .map((service) => service.metadata.name);
    const revisions = revisionsOfFamily(this.deps.revisions.list(taskDefinition.metadata.namespace), family);
    const latest = latestRevision(revisions);
    if (users.length > 0) {
      await this.writeStatus(taskDefinition, { family, revision: latest?.revision ?? taskDefinition.status?.revision, status: 'INACTIVE' }, [
        {
          type: 'Registered',
          status: 'False',
          reason: 'Deregistering',
          message: `deregistered; revisions are kept while services use them: ${users.join(', ')}`,
          observedGeneration: taskDefinition.metadata.generation,
        },
      ]);
      return;
    }
    for (const revision of revisions) {
      if (!revision.metadata.ownerReferences?.some((ref) => ref.uid === taskDefinition.metadata.uid)) continue;
      await this.deps.store.delete(controllerRevisions, revision.metadata.namespace, revision.metadata.name).catch((error: unknown) => {
        if (!isStoreError(error, 'NotFound')) throw error;
      });
    }
    context.log.info('deregistered family', { family });
    await this.deps.store.update(taskDefinitions, {
      ...taskDefinition,
      metadata: { ...taskDefinition.metadata, finalizers: taskDefinition.metadata.finalizers.filter((f) => f !== taskDefinitionFinalizer) },
    });
  }

  private async writeStatus(
    taskDefinition: TaskDefinition,
    fields: Pick<TaskDefinitionStatus, 'family' | 'revision' | 'status'>,
    conditions: DesiredCondition[],
  ): Promise<void> {
    const current = taskDefinition.status ?? {};
    const next: TaskDefinitionStatus = {
      ...current,
      ...fields,
      observedGeneration: taskDefinition.metadata.generation,
      conditions: setConditions(current.conditions, conditions, this.now()),
    };
    if (semanticallyEqual(next, current)) return;
    await this.deps.store.updateStatus(taskDefinitions, { ...taskDefinition, status: next });
  }
}

/** Wires the reconciler to the manager's shared informers. */
export function addTaskDefinitionController(manager: Manager, namespace?: string): void {
  const informer = <T extends KubeObject>(type: ResourceType) => manager.informerFor<T>(type, namespace);
  const deps: TaskDefinitionControllerDeps = {
    store: manager.store,
    events: manager.events,
    taskDefinitions: informer<TaskDefinition>(taskDefinitions),
    revisions: informer<ControllerRevision>(controllerRevisions),
    services: informer<Service>(services),
    secrets: informer(secrets),
    configMaps: informer(configMaps),
    serviceAccounts: informer(serviceAccounts),
  };
  const reconciler = new TaskDefinitionReconciler(deps);
  const byFamily = (object: KubeObject & { spec?: { taskDefinition?: string } }, family: string): ObjectKey[] =>
    deps.taskDefinitions
      .list(object.metadata.namespace)
      .filter((td) => familyOf(td) === family)
      .map((td) => ({ namespace: td.metadata.namespace, name: td.metadata.name }));
  const referencing =
    (kind: 'Secret' | 'ConfigMap' | 'ServiceAccount') =>
    (object: KubeObject): ObjectKey[] =>
      deps.taskDefinitions
        .list(object.metadata.namespace)
        .filter((td) => referencesOf(td.spec).some((ref) => ref.kind === kind && ref.name === object.metadata.name))
        .map((td) => ({ namespace: td.metadata.namespace, name: td.metadata.name }));

  manager
    .addController({ name: 'taskdefinition', reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.taskDefinitions)
    .watch(deps.revisions, (revision) => byFamily(revision, revision.data?.family ?? ''))
    .watch(deps.services, (service) => byFamily(service, parseTaskDefinitionRef(service.spec.taskDefinition).family))
    .watch(deps.secrets, referencing('Secret'))
    .watch(deps.configMaps, referencing('ConfigMap'))
    .watch(deps.serviceAccounts, referencing('ServiceAccount'));
}
