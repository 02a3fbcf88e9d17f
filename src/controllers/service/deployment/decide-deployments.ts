import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { deploymentLimits, type ServiceDeployment, type ServiceSpec } from '../../../api';
import type { DesiredCondition } from '../../../ecs/conditions';
import { circuitBreakerThreshold, healthCheckFailureReason } from './circuit-breaker';
import { planDaemonStep, type DaemonInstanceState } from './daemon';
import type { DeploymentIdGenerator } from './deployment-id';
import { deploymentMachine, type DeploymentEvent, type RecordDeploymentEvent } from './deployment-machine';
import { emptyTally, hasRoom, planRollingStep, rollingBounds, type TaskHealth, type TaskTally } from './rolling';

/**
 * The service scheduler's decision for one reconcile: which deployments a Service has, in which
 * state, and what to do about their tasks. Pure: it reads what the controller observed and returns
 * the new `status.deployments` and an effect plan; the controller writes the status and carries
 * the effects out. Deciding twice on the same input gives the same output, and a decision whose
 * status write was lost is simply made again, with the same deployment ids.
 */

/** The tasks of one deployment (grouped by the Task's `startedBy`), as the controller counted them. */
export interface DeploymentObservation {
  deploymentId: string;
  /** The revision its tasks run; lets a deployment missing from status be adopted rather than orphaned. */
  taskDefinition: string;
  /** Every task of the deployment that is not STOPPED. */
  tasks: TaskTally;
  /** The part of `tasks` on container instances that are draining: to be replaced elsewhere. */
  draining: TaskTally;
  /**
   * STOPPED tasks for which `isFailedLaunch` holds and that status does not count yet. The stored
   * `failedTasks` plus these is the deployment's count of failed launches; the controller records
   * which tasks are counted in the same status write, so each is counted exactly once, across
   * restarts, and stopped tasks can be pruned without losing the count.
   */
  newFailedLaunches: number;
}

/** DAEMON only: an instance of the cluster and the service's tasks on it. */
export interface DaemonInstanceTasks {
  instance: string;
  /** ACTIVE and meeting the placement constraints; a draining or unsuitable instance loses its task. */
  eligible: boolean;
  tasks: { deploymentId: string; health: TaskHealth }[];
}

export interface DecideDeploymentsInput {
  serviceName: string;
  spec: ServiceSpec;
  /** The revision `family:N` the spec asks for, resolved (a bare family is its latest ACTIVE revision). */
  taskDefinition: string;
  /** `status.deployments` as stored. */
  deployments: ServiceDeployment[] | undefined;
  observed: DeploymentObservation[];
  /** DAEMON only: every instance of the cluster that is eligible or still has tasks of the service. */
  instances?: DaemonInstanceTasks[];
  deploymentId: DeploymentIdGenerator;
  now: Date;
}

export interface StartTasksEffect {
  type: 'startTasks';
  deploymentId: string;
  taskDefinition: string;
  count: number;
  /** DAEMON: one task on each of these instances (count is their number). */
  instances?: string[];
}

export interface StopTasksEffect {
  type: 'stopTasks';
  /** The deployment whose tasks to stop; absent for tasks of any deployment on draining instances. */
  deploymentId?: string;
  /**
   * REPLICA: `count` tasks in this state, on draining instances only when `draining`, else only on
   * instances that are not draining. DAEMON: the deployment's tasks on these instances.
   */
  select: { health: Exclude<TaskHealth, 'stopping'>; count: number; draining: boolean } | { instances: string[] };
  /** The stoppedReason (stopCode ServiceSchedulerInitiated). */
  reason: string;
}

export type DeploymentEffect =
  StartTasksEffect | StopTasksEffect | ({ type: 'recordEvent' } & RecordDeploymentEvent) | { type: 'setCondition'; condition: DesiredCondition };

export interface DeploymentDecision {
  /** The effective desired count: spec.desiredCount, or the eligible instances of a DAEMON. */
  desiredCount: number;
  /** The new `status.deployments`, PRIMARY first. */
  deployments: ServiceDeployment[];
  effects: DeploymentEffect[];
}

/** The condition that tells a user where the rollout stands. */
export const progressingCondition = 'Progressing';

type DeploymentSnapshot = SnapshotFrom<typeof deploymentMachine>;

interface Entry {
  snapshot: DeploymentSnapshot;
  stored?: ServiceDeployment;
  createdAt?: string;
}

const statusOf = (entry: Entry) => (entry.snapshot.value as { status: ServiceDeployment['status'] }).status;
const rolloutOf = (entry: Entry) => (entry.snapshot.value as { rollout: ServiceDeployment['rolloutState'] }).rollout;
const idOf = (entry: Entry) => entry.snapshot.context.id;
const live = (t: TaskTally) => t.healthy + t.starting + t.unhealthy + t.stopping;
const minus = (a: TaskTally, b: TaskTally): TaskTally => ({
  healthy: a.healthy - b.healthy,
  starting: a.starting - b.starting,
  unhealthy: a.unhealthy - b.unhealthy,
  stopping: a.stopping - b.stopping,
});
const plus = (a: TaskTally, b: TaskTally): TaskTally => ({
  healthy: a.healthy + b.healthy,
  starting: a.starting + b.starting,
  unhealthy: a.unhealthy + b.unhealthy,
  stopping: a.stopping + b.stopping,
});
const tasks = (n: number) => (n === 1 ? '1 task' : `${n} tasks`);

export function decideDeployments(input: DecideDeploymentsInput): DeploymentDecision {
  const { spec, serviceName, now } = input;
  const daemon = spec.schedulingStrategy === 'DAEMON';
  const desiredCount = daemon ? (input.instances ?? []).filter((i) => i.eligible).length : spec.desiredCount;
  const breaker = spec.deploymentConfiguration.deploymentCircuitBreaker;
  const observed = new Map(input.observed.map((o) => [o.deploymentId, o]));
  const tallyOf = (entry: Entry) => observed.get(idOf(entry))?.tasks ?? emptyTally;
  const drainingOf = (entry: Entry) => observed.get(idOf(entry))?.draining ?? emptyTally;
  // Where tasks stand for the rollout: those on draining instances are on their way out, whatever their deployment.
  const stayingOf = (entry: Entry) => minus(tallyOf(entry), drainingOf(entry));
  const effects: DeploymentEffect[] = [];
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');

  const failedTasksOf = (entry: Entry) => (entry.stored?.failedTasks ?? 0) + (observed.get(idOf(entry))?.newFailedLaunches ?? 0);
  const send = (entry: Entry, event: DeploymentEvent) => {
    const [snapshot, actions] = transition(deploymentMachine, entry.snapshot, event);
    entry.snapshot = snapshot;
    for (const action of actions) if (action.type === 'recordEvent') effects.push({ type: 'recordEvent', ...action.params });
  };
  const start = (entries: Entry[], taskDefinition: string, rollback: boolean, rolloutStateReason?: string): Entry[] => {
    const predecessor = entries.find((e) => statusOf(e) === 'PRIMARY');
    const id = input.deploymentId({ taskDefinition, predecessorId: predecessor && idOf(predecessor), rollback });
    if (predecessor) send(predecessor, { type: 'SUPERSEDED' });
    const [snapshot] = initialTransition(deploymentMachine, { id, serviceName, taskDefinition, ...(rolloutStateReason ? { rolloutStateReason } : {}) });
    effects.push({
      type: 'recordEvent',
      kind: 'Normal',
      reason: 'DeploymentStarted',
      message: `service ${serviceName} has started deployment ${id} of ${taskDefinition}.`,
    });
    return [{ snapshot, createdAt: at }, ...entries];
  };
  const observe = (entries: Entry[], entry: Entry) => {
    // The PRIMARY is judged on its tasks that stay; its draining ones count as others still to go.
    // Any other deployment keeps every task it has until they are STOPPED.
    const tally = statusOf(entry) === 'PRIMARY' ? stayingOf(entry) : tallyOf(entry);
    const allLive = entries.reduce((sum, e) => sum + live(tallyOf(e)), 0);
    send(entry, {
      type: 'OBSERVED',
      desiredCount,
      healthy: tally.healthy,
      live: live(tally),
      othersLive: allLive - live(tally),
      failedTasks: failedTasksOf(entry),
      ...(breaker.enable ? { failureThreshold: circuitBreakerThreshold(desiredCount) } : {}),
    });
  };

  let entries = restore(input.deployments, serviceName);
  if (needsDeployment(entries, input.taskDefinition, input.deploymentId)) entries = start(entries, input.taskDefinition, false);
  entries.push(...adopt(entries, input.observed, serviceName, at));

  const primary = entries[0];
  const wasFailed = rolloutOf(primary) === 'FAILED';
  for (const entry of entries) observe(entries, entry);

  // The circuit breaker tripped just now: roll back to the last revision that completed, unless the
  // deployment that failed is itself a rollback (ECS: a failed rollback ends FAILED, and the service
  // keeps what runs; rolling back again would loop between revisions that both fail).
  const target = entries.find((e) => e !== primary && rolloutOf(e) === 'COMPLETED');
  if (!wasFailed && rolloutOf(primary) === 'FAILED' && breaker.rollback && target && !isRollback(entries, primary, input.deploymentId)) {
    const { taskDefinition: from } = primary.snapshot.context;
    const to = target.snapshot.context.taskDefinition;
    effects.push({
      type: 'recordEvent',
      kind: 'Warning',
      reason: 'DeploymentRollback',
      message: `service ${serviceName} is rolling back to ${to}: deployment ${idOf(primary)} of ${from} FAILED.`,
    });
    entries = start(entries, to, true, `ECS deployment circuit breaker: ${from} failed to start; rolling back to ${to}.`);
    observe(entries, entries[0]);
  }

  const current = entries[0];
  let blocked: string | undefined;
  // A FAILED deployment without a rollback stops launching tasks, and the older ones keep theirs (ECS).
  if (rolloutOf(current) !== 'FAILED') {
    const older = entries.slice(1).filter((e) => statusOf(e) === 'ACTIVE');
    if (daemon) effects.push(...daemonEffects(current, older, input.instances ?? [], deploymentLimits(spec).minimumHealthyPercent));
    else {
      const draining = entries.reduce((sum, e) => plus(sum, drainingOf(e)), emptyTally);
      effects.push(...replicaEffects(current, older, stayingOf, draining, desiredCount, spec));
      const leaving = older.reduce((sum, e) => sum + live(stayingOf(e)), 0) + live(draining);
      blocked = leaving > 0 ? noRoomMessage(desiredCount, spec) : undefined;
    }
  }
  effects.push({ type: 'setCondition', condition: progressing(current, entries, tallyOf, desiredCount, blocked) });

  const deployments = retained(entries).map((entry) => {
    const tally = tallyOf(entry);
    const next: ServiceDeployment = {
      id: idOf(entry),
      status: statusOf(entry),
      taskDefinition: entry.snapshot.context.taskDefinition,
      desiredCount: entry === current ? desiredCount : 0,
      runningCount: tally.healthy + tally.unhealthy,
      pendingCount: tally.starting,
      failedTasks: failedTasksOf(entry),
      rolloutState: rolloutOf(entry),
      ...(entry.snapshot.context.rolloutStateReason ? { rolloutStateReason: entry.snapshot.context.rolloutStateReason } : {}),
      ...(entry.createdAt ? { createdAt: entry.createdAt } : {}),
    };
    // updatedAt moves only when something did, so an unchanged world writes an unchanged status.
    return { ...next, updatedAt: entry.stored && !changed(entry.stored, next) ? (entry.stored.updatedAt ?? at) : at };
  });
  return { desiredCount, deployments, effects };
}

function changed(stored: ServiceDeployment, next: ServiceDeployment): boolean {
  const fields: (keyof ServiceDeployment)[] = [
    'status',
    'taskDefinition',
    'desiredCount',
    'runningCount',
    'pendingCount',
    'failedTasks',
    'rolloutState',
    'rolloutStateReason',
  ];
  return fields.some((field) => stored[field] !== next[field]);
}

/** PRIMARY first, the others newest first, as they are stored. */
function restore(stored: ServiceDeployment[] | undefined, serviceName: string): Entry[] {
  const ordered = [...(stored ?? [])].sort((a, b) => Number(b.status === 'PRIMARY') - Number(a.status === 'PRIMARY'));
  return ordered.map((deployment) => ({
    stored: deployment,
    ...(deployment.createdAt ? { createdAt: deployment.createdAt } : {}),
    snapshot: deploymentMachine.resolveState({
      value: { status: deployment.status, rollout: deployment.rolloutState },
      context: {
        id: deployment.id,
        serviceName,
        taskDefinition: deployment.taskDefinition,
        ...(deployment.rolloutStateReason ? { rolloutStateReason: deployment.rolloutStateReason } : {}),
      },
    }),
  }));
}

/**
 * A new deployment is due when the spec asks for a revision the PRIMARY does not run, unless the
 * PRIMARY is the circuit breaker's rollback from exactly that revision: the spec still names the
 * revision that failed, and deploying it again would fail again. A new revision deploys as usual.
 */
function needsDeployment(entries: Entry[], requested: string, deploymentId: DeploymentIdGenerator): boolean {
  const primary = entries.find((e) => statusOf(e) === 'PRIMARY');
  if (!primary) return true;
  const { taskDefinition } = primary.snapshot.context;
  if (taskDefinition === requested) return false;
  const predecessor = entries[entries.indexOf(primary) + 1];
  const rolledBackFromRequested =
    predecessor !== undefined &&
    rolloutOf(predecessor) === 'FAILED' &&
    predecessor.snapshot.context.taskDefinition === requested &&
    idOf(primary) === deploymentId({ taskDefinition, predecessorId: idOf(predecessor), rollback: true });
  return !rolledBackFromRequested;
}

/** Tasks whose deployment status no longer lists are drained as an ACTIVE deployment rather than orphaned. */
function adopt(entries: Entry[], observed: DeploymentObservation[], serviceName: string, at: string): Entry[] {
  const known = new Set(entries.map(idOf));
  return observed
    .filter((o) => !known.has(o.deploymentId) && live(o.tasks) > 0)
    .map((o) => {
      const [initial] = initialTransition(deploymentMachine, { id: o.deploymentId, serviceName, taskDefinition: o.taskDefinition });
      const [snapshot] = transition(deploymentMachine, initial, { type: 'SUPERSEDED' });
      return { snapshot, createdAt: at };
    });
}

/**
 * The rolling step over the tasks that stay, with every task on a draining instance as one more
 * "older deployment", the oldest: draining is a rollout away from those instances. Their
 * replacements start within maximumPercent, and they stop as the replacements turn healthy, never
 * below minimumHealthyPercent (ECS: "service tasks are replaced elsewhere, respecting the deployment
 * limits").
 *   e.g. D 4, min 100 / max 200, 1 of 4 healthy tasks on a draining instance: the PRIMARY has 3 that
 *        stay; start = min(4 − 3, 8 − 4) = 1; once it is healthy, replaced = 1 − max(0, 4 − 4) = 1:
 *        the draining one stops. 4 healthy at every moment.
 */
function replicaEffects(
  primary: Entry,
  older: Entry[],
  stayingOf: (e: Entry) => TaskTally,
  draining: TaskTally,
  desiredCount: number,
  spec: ServiceSpec,
): DeploymentEffect[] {
  const oldestFirst = [...older].reverse();
  const step = planRollingStep({ desiredCount, ...deploymentLimits(spec), primary: stayingOf(primary), older: [draining, ...oldestFirst.map(stayingOf)] });
  const effects: DeploymentEffect[] = [];
  for (const stop of step.stops) {
    const reason = stopReason(stop.health, primary);
    if (stop.deployment === 0) {
      const why = stop.health === 'unhealthy' ? reason : drainingStopReason;
      effects.push({ type: 'stopTasks', select: { health: stop.health, count: stop.count, draining: true }, reason: why });
      continue;
    }
    const entry = stop.deployment === 'primary' ? primary : oldestFirst[stop.deployment - 1];
    effects.push({ type: 'stopTasks', deploymentId: idOf(entry), select: { health: stop.health, count: stop.count, draining: false }, reason });
  }
  if (step.start > 0)
    effects.push({ type: 'startTasks', deploymentId: idOf(primary), taskDefinition: primary.snapshot.context.taskDefinition, count: step.start });
  return effects;
}

const healthRank: Record<TaskHealth, number> = { healthy: 3, starting: 2, unhealthy: 1, stopping: 0 };

function daemonEffects(primary: Entry, older: Entry[], instances: DaemonInstanceTasks[], minimumHealthyPercent: number): DeploymentEffect[] {
  const olderIds = new Set(older.map(idOf));
  const best = (healths: TaskHealth[]) => healths.sort((a, b) => healthRank[b] - healthRank[a])[0];
  const states: DaemonInstanceState[] = instances.map(({ instance, eligible, tasks: onInstance }) => {
    const newest = best(onInstance.filter((t) => t.deploymentId === idOf(primary)).map((t) => t.health));
    const old = best(onInstance.filter((t) => olderIds.has(t.deploymentId)).map((t) => t.health));
    return { instance, eligible, ...(old ? { old } : {}), ...(newest ? { new: newest } : {}) };
  });
  const step = planDaemonStep(states, minimumHealthyPercent);
  const byInstance = new Map(instances.map((i) => [i.instance, i]));
  const effects: DeploymentEffect[] = [];
  const stopOn = (entry: Entry, names: string[], health: (name: string) => TaskHealth | undefined) => {
    const reasons = new Map<string, string[]>();
    for (const name of names) {
      if (!byInstance.get(name)?.tasks.some((t) => t.deploymentId === idOf(entry) && t.health !== 'stopping')) continue;
      const reason = stopReason(health(name) === 'unhealthy' ? 'unhealthy' : 'healthy', primary);
      reasons.set(reason, [...(reasons.get(reason) ?? []), name]);
    }
    for (const [reason, names] of reasons) effects.push({ type: 'stopTasks', deploymentId: idOf(entry), select: { instances: names }, reason });
  };
  const state = (name: string) => states.find((s) => s.instance === name);
  stopOn(primary, step.stopNewOn, (name) => state(name)?.new);
  for (const entry of [...older].reverse()) stopOn(entry, step.stopOldOn, (name) => state(name)?.old);
  if (step.startOn.length > 0) {
    effects.push({
      type: 'startTasks',
      deploymentId: idOf(primary),
      taskDefinition: primary.snapshot.context.taskDefinition,
      count: step.startOn.length,
      instances: step.startOn,
    });
  }
  return effects;
}

/** The stoppedReason of a service task moved off a draining instance. */
export const drainingStopReason = 'Container instance is draining: the task is replaced elsewhere';

/** Why a rollout cannot move, with the numbers, as the API would have refused the limits. */
function noRoomMessage(desiredCount: number, spec: ServiceSpec): string | undefined {
  const { minimumHealthyPercent, maximumPercent } = deploymentLimits(spec);
  const bounds = rollingBounds(desiredCount, minimumHealthyPercent, maximumPercent);
  if (hasRoom(desiredCount, bounds)) return undefined;
  return (
    `with desiredCount ${desiredCount}, minimumHealthyPercent ${minimumHealthyPercent} keeps ${bounds.floor} healthy ` +
    `and maximumPercent ${maximumPercent} allows ${bounds.ceiling} at once: no task can be replaced; ` +
    'lower minimumHealthyPercent or raise maximumPercent'
  );
}

/**
 * Whether `entry` is the circuit breaker's rollback of the deployment after it: ids are derived, so
 * the rollback's id is recomputed from its predecessor rather than stored.
 */
function isRollback(entries: Entry[], entry: Entry, deploymentId: DeploymentIdGenerator): boolean {
  const predecessor = entries[entries.indexOf(entry) + 1];
  if (!predecessor) return false;
  return idOf(entry) === deploymentId({ taskDefinition: entry.snapshot.context.taskDefinition, predecessorId: idOf(predecessor), rollback: true });
}

function stopReason(health: Exclude<TaskHealth, 'stopping'>, primary: Entry): string {
  return health === 'unhealthy' ? healthCheckFailureReason : `Scaling activity initiated by (deployment ${idOf(primary)})`;
}

function progressing(primary: Entry, entries: Entry[], tallyOf: (e: Entry) => TaskTally, desiredCount: number, blocked: string | undefined): DesiredCondition {
  const id = idOf(primary);
  const { taskDefinition, rolloutStateReason } = primary.snapshot.context;
  if (blocked && rolloutOf(primary) !== 'FAILED') {
    return {
      type: progressingCondition,
      status: 'False',
      reason: 'NoRoomToReplaceTasks',
      message: `deployment ${id} of ${taskDefinition} cannot proceed: ${blocked}`,
    };
  }
  switch (rolloutOf(primary)) {
    case 'COMPLETED':
      return { type: progressingCondition, status: 'True', reason: 'DeploymentCompleted', message: `deployment ${id} of ${taskDefinition} completed` };
    case 'FAILED':
      return {
        type: progressingCondition,
        status: 'False',
        reason: 'DeploymentFailed',
        message: `deployment ${id} of ${taskDefinition} FAILED: ${rolloutStateReason}`,
      };
    case 'IN_PROGRESS': {
      const olderLive = entries.filter((e) => e !== primary).reduce((sum, e) => sum + live(tallyOf(e)), 0);
      const message = `deployment ${id} is rolling out ${taskDefinition}: ${tallyOf(primary).healthy} of ${desiredCount} tasks healthy, ${tasks(olderLive)} of older deployments left`;
      return { type: progressingCondition, status: 'True', reason: 'DeploymentInProgress', message };
    }
  }
}

/**
 * ECS lists PRIMARY and ACTIVE deployments. Of the INACTIVE ones Berth keeps two that later
 * decisions need: the newest (it may be the FAILED revision a rollback must not redeploy) and the
 * newest COMPLETED one (the circuit breaker's rollback target).
 */
function retained(entries: Entry[]): Entry[] {
  const newestInactive = entries.find((e) => statusOf(e) === 'INACTIVE');
  const newestCompleted = entries.find((e) => rolloutOf(e) === 'COMPLETED');
  return entries.filter((e) => statusOf(e) !== 'INACTIVE' || e === newestInactive || e === newestCompleted);
}
