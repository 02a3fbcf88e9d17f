import { admittedAnnotation, fargateCapacityProvider, tasks as taskType, type Cluster, type ContainerInstance, type Service, type Task } from '../../api';
import { applicableStrategy, CapacityProviderChooser } from '../capacityprovider';
import { fargateProfileAnnotation, fargateProfileOf } from '../../ecs/compatibility';
import { settleAll } from '../../runtime/concurrency';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { ObjectKey } from '../../runtime/object-key';
import { MutationCache } from '../../runtime/mutation-cache';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { EcsScheduler, placementCandidates, taskPlacement, type BatchRequest, type PlacementDecision, type Scheduler, type WaitCode } from '../placement';
import { placementRequirements } from '../../ecs/resources';
import { InstanceIndex, TaskIndex } from '../../ecs/indexes';
import { overridesProblem, withOverrides } from '../../ecs/revisions/overrides';
import { revisionSpec, specOfTask } from '../../ecs/revisions/revision-lookup';
import { revisionsOfFamily } from '../taskdefinition/indexes';
import { resolveForNewUse } from '../../ecs/revisions/revision-state';
import { parseTaskDefinitionRef, type ControllerRevision } from '../../ecs/revisions/revisions';
import { nextTaskStatus, placedCondition, type TaskLifecycleEvent } from '../../ecs/task-lifecycle';
import type { PlacementMetrics } from './placement-metrics';

export interface BinderDeps {
  store: ObjectStore;
  events: EventRecorder;
  tasks: SharedInformer<Task>;
  instances: SharedInformer<ContainerInstance>;
  services: SharedInformer<Service>;
  clusters: SharedInformer<Cluster>;
  revisions: SharedInformer<ControllerRevision>;
  scheduler?: Scheduler;
  metrics?: PlacementMetrics;
  now?: () => Date;
}

/** Binds in flight per batch. */
const writeConcurrency = 32;

/** How soon tasks that fit nowhere are tried again, besides every instance or task change that may make room. */
const placementRetryMs = 10_000;

/**
 * The scheduler's binding loop, one cluster at a time (the work key is `namespace/cluster`): every
 * task of the cluster awaiting placement is placed in one batch, against one view of what each
 * instance has left, and the bindings are written in parallel. New tasks arriving while a batch runs
 * requeue the cluster once, so the next batch takes them all: batching comes from the work queue.
 *
 * Two kinds of task wait here: unplaced ones (RunTask, REPLICA services) are placed by the Scheduler;
 * tasks bound at creation (DAEMON services, ECS StartTask) are admitted when they fit their instance,
 * and otherwise wait with the reason. Both are handled in the same batch, so they never take the same
 * last slot. Bindings this process wrote are assumed until the informer shows them, as kube-scheduler
 * assumes pods: the next batch must not count the slot as free.
 */
export class ClusterBinder {
  private readonly scheduler: Scheduler;
  private readonly now: () => Date;
  private readonly taskIndex: TaskIndex;
  private readonly instanceIndex: InstanceIndex;
  /**
   * Task key → the uid of the task this process bound or admitted, and to which instance ('' for
   * Fargate), until the informer shows it. By uid as well as name: a service reuses the free ordinal of
   * a task it pruned, and the new task of that name must be placed, not taken for the old one.
   */
  private readonly assumed = new Map<string, Assumption>();
  /** Tasks as the binder last wrote them (a waiting task's reason), so the next batch does not write from a stale copy. */
  private readonly written: MutationCache<Task>;

  constructor(private readonly deps: BinderDeps) {
    this.scheduler = deps.scheduler ?? new EcsScheduler();
    this.now = deps.now ?? (() => new Date());
    this.taskIndex = new TaskIndex(deps.tasks);
    this.instanceIndex = new InstanceIndex(deps.instances);
    this.written = new MutationCache(deps.tasks);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const { namespace, name: cluster } = key;
    this.dropSettledAssumptions();
    const waiting = this.taskIndex
      .awaitingPlacementIn(namespace, cluster)
      .filter((task) => task.spec.desiredStatus !== 'STOPPED' && !this.isAssumed(task))
      .map((task) => this.written.get(task.metadata.namespace, task.metadata.name) ?? task)
      .sort(byAge);
    if (waiting.length === 0) {
      if (this.deps.clusters.get(namespace, cluster)) this.deps.metrics?.report(namespace ?? '', cluster, []);
      else this.deps.metrics?.forget(namespace ?? '', cluster);
      return;
    }

    const instances = this.instanceIndex.inCluster(namespace, cluster);
    const candidates = placementCandidates(instances, this.tasksWithAssumptions(instances), (t) => specOfTask(this.deps.revisions, t));
    const outcomes: Outcome[] = [];
    const requests: (BatchRequest & { task: Task; chosenProvider?: string })[] = [];
    const clusterObject = this.deps.clusters.get(namespace, cluster);
    const providers = new CapacityProviderChooser((group) =>
      group?.startsWith('service:')
        ? this.taskIndex.ofService(namespace, group.slice('service:'.length))
        : this.taskIndex.inCluster(namespace, cluster).filter((t) => t.spec.group === group),
    );
    for (const task of waiting) {
      const refusal = this.refusal(task);
      if (refusal) {
        outcomes.push({ task, refusal });
        continue;
      }
      const revision = revisionSpec(this.deps.revisions, task.metadata.namespace, task.spec.taskDefinition);
      if (!revision) {
        // Not a reason to destroy anything: the revision may be registered yet. The task waits, and says why.
        outcomes.push({ task, failure: `task definition ${task.spec.taskDefinition} not found`, code: 'TaskDefinitionNotFound' });
        continue;
      }
      // ECS refuses RunTask whose overrides name a container the task definition lacks.
      const overridesRefused = overridesProblem(revision, task.spec.overrides, task.spec.taskDefinition);
      if (overridesRefused) {
        outcomes.push({ task, refusal: overridesRefused });
        continue;
      }
      const spec = withOverrides(revision, task.spec.overrides);
      const service = this.serviceOf(task);
      // The provider is chosen once, by the strategy that applies, and kept in the task's spec.
      const strategy =
        task.spec.capacityProviderName === undefined && !task.spec.containerInstance ? applicableStrategy(task, service, clusterObject) : undefined;
      const chosenProvider = strategy ? providers.choose(task.spec.group, strategy) : undefined;
      const capacityProvider = task.spec.capacityProviderName ?? chosenProvider;
      if (capacityProvider === fargateCapacityProvider) {
        // No instance to place on: admitted as it is, the cluster's Fargate pool runs it with capacity of its own.
        // Selected by a profile with pod settings, it runs as a Pod under them (kept from now on, whatever the profile becomes).
        const selecting = clusterObject && fargateProfileOf(task, service?.metadata.labels, clusterObject);
        const profile = selecting?.pod ? selecting.name : undefined;
        outcomes.push({ task, fargate: true, ...(profile !== undefined && { profile }), ...(chosenProvider !== undefined ? { chosenProvider } : {}) });
        continue;
      }
      requests.push({
        task,
        requirements: placementRequirements(spec),
        group: task.spec.group,
        ...taskPlacement(task, service, spec),
        ...(capacityProvider !== undefined ? { capacityProvider } : {}),
        ...(chosenProvider !== undefined ? { chosenProvider } : {}),
        ...(task.spec.containerInstance ? { pinnedTo: task.spec.containerInstance } : {}),
      });
    }
    // Tasks bound at creation first: they can go nowhere else.
    requests.sort((a, b) => Number(b.pinnedTo !== undefined) - Number(a.pinnedTo !== undefined));
    const decisions = this.scheduler.placeBatch(requests, candidates);
    requests.forEach(({ task, pinnedTo, chosenProvider }, i) => outcomes.push(outcomeOf(task, decisions[i], pinnedTo, chosenProvider)));

    const results = await settleAll(outcomes, writeConcurrency, (outcome) => this.write(outcome));
    await this.tellServices(outcomes);
    const failures = outcomes.flatMap((o) => ('failure' in o ? [{ uid: o.task.metadata.uid!, code: o.code }] : []));
    this.deps.metrics?.report(namespace ?? '', cluster, failures);
    const waitingStill = failures.length;
    context.log.debug('placement batch', { tasks: outcomes.length, bound: outcomes.length - waitingStill, waiting: waitingStill });
    for (const result of results) if (result.status === 'rejected' && !isStoreError(result.reason, 'NotFound')) throw result.reason;
    return waitingStill > 0 ? { requeueAfterMs: placementRetryMs } : undefined;
  }

  /**
   * ECS refuses RunTask of a deregistered revision: a new standalone task naming an INACTIVE revision
   * stops at once with TaskFailedToStart. Service tasks are the service's business (it may keep
   * running a revision that was deregistered under it), and a missing revision only waits.
   */
  private refusal(task: Task): string | undefined {
    if (task.spec.group?.startsWith('service:') || task.status?.lastStatus !== undefined) return undefined;
    const namespace = task.metadata.namespace;
    const { family } = parseTaskDefinitionRef(task.spec.taskDefinition);
    const resolution = resolveForNewUse(revisionsOfFamily(this.deps.revisions, namespace, family), namespace, task.spec.taskDefinition);
    return !resolution.ok && resolution.reason === 'TaskDefinitionInactive' ? resolution.message : undefined;
  }

  private async write(outcome: Outcome): Promise<void> {
    const { task } = outcome;
    if ('refusal' in outcome) return this.writeTransition(task, { type: 'LAUNCH_FAILED', reason: outcome.refusal });
    const provider = outcome.chosenProvider !== undefined ? { capacityProviderName: outcome.chosenProvider } : {};
    if ('fargate' in outcome) {
      // Assumed with no instance: the next batch skips it until the informer shows it admitted.
      this.assume(task, '');
      try {
        await this.deps.store.patch(taskType, task.metadata.namespace, task.metadata.name, {
          metadata: { annotations: { [admittedAnnotation]: 'true', ...(outcome.profile !== undefined && { [fargateProfileAnnotation]: outcome.profile }) } },
          spec: provider,
        });
      } catch (error) {
        this.assumed.delete(keyString(task));
        throw error;
      }
      return;
    }
    if ('instance' in outcome) {
      const patch = outcome.admitOnly
        ? { metadata: { annotations: { [admittedAnnotation]: 'true' } } }
        : { metadata: { annotations: { [admittedAnnotation]: 'true' } }, spec: { containerInstance: outcome.instance, ...provider } };
      this.assume(task, outcome.instance);
      try {
        await this.deps.store.patch(taskType, task.metadata.namespace, task.metadata.name, patch);
      } catch (error) {
        this.assumed.delete(keyString(task));
        throw error;
      }
      return;
    }
    // The status the agent will not write: a task that waits says why (once per distinct reason). Its
    // provider is kept even so, so that managed scaling counts it as demand of that provider's group.
    const current =
      outcome.chosenProvider !== undefined
        ? await this.deps.store.patch<Task>(taskType, task.metadata.namespace, task.metadata.name, { spec: provider })
        : task;
    return this.writeTransition(current, { type: 'PLACEMENT_FAILED', reason: outcome.failure });
  }

  /**
   * ECS's service event for a task it cannot place, once per service and new reason: a task's
   * own condition and Event carry it too, but a user watches the service.
   *
   *   e.g. "service web was unable to place a task because no container instance met all of its
   *   requirements. The closest matching container-instance i-2 has insufficient memory available. ..."
   */
  private async tellServices(outcomes: readonly Outcome[]): Promise<void> {
    const told = new Set<string>();
    for (const outcome of outcomes) {
      if (!('failure' in outcome)) continue;
      const { task, failure } = outcome;
      const service = this.serviceOf(task);
      if (!service || told.has(service.metadata.name) || placementFailureOf(task) === failure) continue;
      told.add(service.metadata.name);
      await this.deps.events.event(service, 'Warning', 'PlacementFailed', `service ${service.metadata.name} was unable to place a task because ${failure}`);
    }
  }

  private async writeTransition(task: Task, event: TaskLifecycleEvent): Promise<void> {
    const next = nextTaskStatus(task.status, event, this.now());
    for (const effect of next.effects) {
      if (effect.type === 'recordEvent') await this.deps.events.event(task, effect.kind, effect.reason, effect.message);
    }
    if (semanticallyEqual(next.status, task.status)) return;
    this.written.mutated(await this.deps.store.updateStatus<Task>(taskType, { ...task, status: next.status }));
  }

  private assume(task: Task, instance: string): void {
    const { namespace, name, uid } = task.metadata;
    this.assumed.set(keyString(task), { namespace, name, uid: uid!, instance });
  }

  /** Forgets the assumptions the cache has caught up with: the task gone (or replaced by a new one of its name), stopped, or shown bound. */
  private dropSettledAssumptions(): void {
    for (const [key, { namespace, name, uid }] of this.assumed) {
      const cached = this.deps.tasks.get(namespace, name);
      if (!cached || cached.metadata.uid !== uid || cached.status?.lastStatus === 'STOPPED' || cached.metadata.annotations?.[admittedAnnotation] === 'true') {
        this.assumed.delete(key);
      }
    }
  }

  /** The cached tasks on `instances`, with the bindings this process made and the cache does not show yet (settled ones dropped first). */
  private tasksWithAssumptions(instances: ContainerInstance[]): Task[] {
    const tasks = new Map<string, Task>();
    for (const instance of instances) {
      for (const task of this.taskIndex.onInstance(instance.metadata.namespace, instance.metadata.name)) tasks.set(keyString(task), task);
    }
    for (const [key, { namespace, name, instance }] of this.assumed) {
      const cached = this.deps.tasks.get(namespace, name);
      // A Fargate task holds nothing on any instance.
      if (!cached || instance === '') continue;
      tasks.set(key, {
        ...cached,
        metadata: { ...cached.metadata, annotations: { ...cached.metadata.annotations, [admittedAnnotation]: 'true' } },
        spec: { ...cached.spec, containerInstance: instance },
      });
    }
    return [...tasks.values()];
  }

  private isAssumed(task: Task): boolean {
    return this.assumed.get(keyString(task))?.uid === task.metadata.uid;
  }

  private serviceOf(task: Task): Service | undefined {
    const group = task.spec.group ?? '';
    return group.startsWith('service:') ? this.deps.services.get(task.metadata.namespace, group.slice('service:'.length)) : undefined;
  }
}

/** The reason the task was last given for waiting, from its Placed condition. */
function placementFailureOf(task: Task): string | undefined {
  const placed = task.status?.conditions?.find((c) => c.type === placedCondition);
  return placed?.status === 'False' ? placed.message : undefined;
}

/** `chosenProvider`: the capacity provider this batch chose for the task, to be written with the outcome. */
type Outcome = (
  | { task: Task; instance: string; admitOnly: boolean }
  | { task: Task; failure: string; code: WaitCode }
  | { task: Task; refusal: string }
  | { task: Task; fargate: true; profile?: string }
) & { chosenProvider?: string };

function outcomeOf(task: Task, decision: PlacementDecision, pinnedTo: string | undefined, chosenProvider: string | undefined): Outcome {
  const provider = chosenProvider !== undefined ? { chosenProvider } : {};
  if ('instance' in decision) return { task, instance: decision.instance, admitOnly: pinnedTo !== undefined, ...provider };
  return { task, failure: decision.reason, code: decision.code, ...provider };
}

/** First come, first placed: creation time, then name. */
function byAge(a: Task, b: Task): number {
  const byTime = (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
  return byTime !== 0 ? byTime : a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** A binding or admission this process wrote, of the task with this uid ('' instance: Fargate). */
interface Assumption {
  namespace: string | undefined;
  name: string;
  uid: string;
  instance: string;
}

function keyString(task: Task): string {
  return `${task.metadata.namespace}/${task.metadata.name}`;
}
