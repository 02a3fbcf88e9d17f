import { initialTransition, transition } from 'xstate';
import type { Service, ServiceStatus } from '../../api';
import { evaluateAlarm, isDue, nextDatapointAt, type AlarmDefinition, type AlarmRecord, type Comparison } from './alarms';
import { autoScalingMachine, type AutoScalingContext, type PolicyObservation, type Proposal, type RecordScaling } from './autoscaling-machine';
import { lastRunBetween, nextRunAfter, parseSchedule, ScheduleError, type Schedule } from '../../api/schedule';
import { stepFor } from './step-scaling';
import { targetTrackingAlarms, targetTrackingCapacity } from './target-tracking';
import type { Datapoint, ScalingMetric, Statistic } from './utilization';
import { metaTime } from '../../runtime/clock';

export type AutoScalingSpec = NonNullable<Service['spec']['autoScaling']>;
export type AutoScalingStatus = NonNullable<ServiceStatus['autoScaling']>;
type ScheduledActionRecord = NonNullable<AutoScalingStatus['scheduledActions']>[number];
type ScheduledAction = NonNullable<AutoScalingSpec['scheduledActions']>[number];

export interface AutoScalingInput {
  service: Service & { spec: { autoScaling: AutoScalingSpec } };
  now: Date;
  /** Milliseconds between target tracking's datapoints: ECS's 60 000, shorter in tests. */
  periodMs: number;
  /** The service's metric now (utilization.ts), or undefined when no RUNNING task reported it. */
  datapoint(metric: ScalingMetric, statistic: Statistic): Datapoint | undefined;
  /** ECS turns scale-in off while a deployment is in progress. */
  deploymentInProgress: boolean;
  /** The service's RUNNING tasks, reporting or not: what a scale-in counts from, as ECS counts from the running count. */
  runningTasks: number;
}

export interface AutoScalingEvent {
  type: 'recordEvent';
  kind: 'Normal' | 'Warning';
  reason: 'ScaledOut' | 'ScaledIn' | 'ScheduledActionRan' | 'ScheduledActionRefused' | 'CapacityBoundsApplied';
  message: string;
}

export interface AutoScalingDecision {
  status: AutoScalingStatus;
  /** The desiredCount to set, when it changes. */
  desiredCount?: number;
  effects: AutoScalingEvent[];
  /** The next datapoint, scheduled run or cooldown end: look again then. */
  requeueAfterMs?: number;
}

interface Alarm extends AlarmDefinition {
  metric: ScalingMetric;
  statistic: Statistic;
}

/**
 * One auto-scaling decision for one service. In order, as Application Auto Scaling applies them:
 *   1. the capacity bounds in force: the spec's, when they are new or changed, or when Berth takes the service
 *      back from an HPA (which moves desiredCount inside them at once, as registering a scalable target does),
 *      else those the last scheduled action set;
 *   2. scheduled actions whose time has come since they last ran (once, however many runs were missed): their
 *      minCapacity / maxCapacity, and desiredCount moved inside; cooldowns do not hold them back;
 *   3. the alarms whose next datapoint is due take it; those in ALARM propose a capacity; the machine
 *      (autoscaling-machine.ts) applies cooldowns and picks one.
 * Pure: the status and desiredCount to write and the Events to record. The controller writes the status
 * first, so a decision whose write fails is taken again from the same stored state, never twice.
 */
export function decideAutoScaling(input: AutoScalingInput): AutoScalingDecision {
  const { service, now } = input;
  const spec = service.spec.autoScaling;
  const stored = service.status?.autoScaling;
  const nowMs = now.getTime();
  const time = metaTime(nowMs);
  const effects: AutoScalingEvent[] = [];
  const generation = service.metadata.generation ?? 0;
  let desired = service.spec.desiredCount;
  let activity: AutoScalingStatus['lastScalingActivity'] = stored?.lastScalingActivity;
  const record = (to: number, cause: string) => {
    if (to !== desired) activity = { time, from: desired, to, cause, observedGeneration: generation };
    desired = to;
  };

  // 1. Bounds.
  let bounds = { minCapacity: spec.minCapacity, maxCapacity: spec.maxCapacity };
  // Taken over from an HPA that scaled the service as it saw fit: as a new registration, the bounds apply at once.
  const declaredChanged =
    !stored ||
    stored.horizontalPodAutoscaler !== undefined ||
    stored.declaredMinCapacity !== spec.minCapacity ||
    stored.declaredMaxCapacity !== spec.maxCapacity;
  if (!declaredChanged) bounds = { minCapacity: stored.minCapacity, maxCapacity: stored.maxCapacity };
  else {
    const inside = clamp(desired, bounds);
    if (inside !== desired) {
      effects.push(
        event('Normal', 'CapacityBoundsApplied', `desiredCount ${desired} → ${inside}: autoScaling allows ${bounds.minCapacity}..${bounds.maxCapacity}`),
      );
      record(inside, `autoScaling minCapacity..maxCapacity is ${bounds.minCapacity}..${bounds.maxCapacity}`);
    }
  }

  // 2. Scheduled actions, in the order of their runs.
  const scheduled: ScheduledActionRecord[] = [];
  const runs: { at: number; action: ScheduledAction }[] = [];
  const wakeUps: number[] = [];
  for (const action of spec.scheduledActions ?? []) {
    const expression = action.timezone ? `${action.schedule} ${action.timezone}` : action.schedule;
    const previous = stored?.scheduledActions?.find((entry) => entry.name === action.name && entry.schedule === expression);
    const firstSeen = previous ? Date.parse(previous.firstSeenAt) : nowMs;
    // The admission webhook refuses a bad schedule; without it (an operator run with no webhook) it is reported.
    const schedule = parsed(action.schedule, action.timezone);
    if (typeof schedule === 'string') {
      effects.push(event('Warning', 'ScheduledActionRefused', `scheduled action ${action.name} never runs: ${schedule}`));
      continue;
    }
    const after = previous?.lastRunAt ? Date.parse(previous.lastRunAt) : firstSeen;
    const due = previous ? lastRunBetween(schedule, after, nowMs, firstSeen) : undefined;
    if (due !== undefined) runs.push({ at: due, action });
    const next = nextRunAfter(schedule, nowMs, firstSeen);
    if (next !== undefined) wakeUps.push(next);
    const lastRun = due ?? (previous?.lastRunAt ? Date.parse(previous.lastRunAt) : undefined);
    scheduled.push({
      name: action.name,
      schedule: expression,
      firstSeenAt: metaTime(firstSeen),
      ...(lastRun !== undefined && { lastRunAt: metaTime(lastRun) }),
      ...(next !== undefined && { nextRunAt: metaTime(next) }),
    });
  }
  for (const { at, action } of runs.sort((a, b) => a.at - b.at)) {
    const wanted = { minCapacity: action.minCapacity ?? bounds.minCapacity, maxCapacity: action.maxCapacity ?? bounds.maxCapacity };
    const name = `scheduled action ${action.name} (${action.schedule}${action.timezone ? ` ${action.timezone}` : ''}, due ${metaTime(at)})`;
    if (wanted.minCapacity > wanted.maxCapacity) {
      effects.push(
        event('Warning', 'ScheduledActionRefused', `${name} not applied: minCapacity ${wanted.minCapacity} would exceed maxCapacity ${wanted.maxCapacity}`),
      );
      continue;
    }
    bounds = wanted;
    const inside = clamp(desired, bounds);
    effects.push(
      event(
        'Normal',
        'ScheduledActionRan',
        `${name} set capacity ${bounds.minCapacity}..${bounds.maxCapacity}${inside !== desired ? `: desiredCount ${desired} → ${inside}` : ''}`,
      ),
    );
    record(inside, `${name} set capacity ${bounds.minCapacity}..${bounds.maxCapacity}`);
  }

  // 3. Alarms and the policies behind them.
  const storedAlarms = new Map((stored?.alarms ?? []).map((alarm) => [alarm.name, alarm]));
  const alarms: AlarmRecord[] = [];
  const fired = new Map<string, { alarm: Alarm; record: AlarmRecord; datapoint: Datapoint }>();
  const evaluate = (alarm: Alarm): AlarmRecord => {
    const previous = storedAlarms.get(alarm.name);
    let current = previous;
    if (isDue(alarm, previous, nowMs)) {
      const datapoint = input.datapoint(alarm.metric, alarm.statistic);
      if (datapoint && previous?.sampledAt !== undefined && datapoint.sampledAt <= Date.parse(previous.sampledAt)) {
        // No report newer than the last datapoint's: one report is never two datapoints (an agent late, a
        // policy period shorter than the metrics period). Looked again next period.
        current = { ...previous, evaluatedAt: metaTime(nowMs) };
      } else {
        current = evaluateAlarm(alarm, previous, datapoint && { value: datapoint.value, sampledAt: datapoint.sampledAt }, now);
        if (current.state === 'ALARM' && datapoint) fired.set(alarm.name, { alarm, record: current, datapoint });
      }
    }
    alarms.push(current!);
    wakeUps.push(nextDatapointAt(alarm, current!));
    return current!;
  };

  const scaleOut: Proposal[] = [];
  const scaleIn: Proposal[] = [];
  let lowAlarmsAgree = true;
  const targetTrackingIn: Proposal[] = [];
  for (const policy of spec.targetTracking ?? []) {
    const high = targetTrackingAlarm(policy.predefinedMetric, 'high', policy.targetValue, input.periodMs);
    evaluate(high);
    const highFired = fired.get(high.name);
    if (highFired) {
      const { datapoint } = highFired;
      scaleOut.push({
        kind: 'capacity',
        // At least one: a request count with no RUNNING task is one target's (request-count.ts), and 0 × anything is 0.
        capacity: targetTrackingCapacity(Math.max(1, datapoint.tasks), datapoint.value, policy.targetValue),
        cause: `${high.name}: ${policy.predefinedMetric} ${round(datapoint.value)} above target ${policy.targetValue} for ${high.datapointsToAlarm} datapoints (${datapoint.tasks} running tasks)`,
        cooldownMs: policy.scaleOutCooldown * 1000,
      });
    }
    if (policy.disableScaleIn) continue;
    const low = targetTrackingAlarm(policy.predefinedMetric, 'low', policy.targetValue, input.periodMs);
    const lowRecord = evaluate(low);
    const lowFired = fired.get(low.name);
    if (lowRecord.state !== 'ALARM') lowAlarmsAgree = false;
    if (lowFired) {
      const { datapoint } = lowFired;
      // From every RUNNING task, reporting or not: 10 running, 3 reporting 40 % on a 50 % target is 8, not 3.
      const running = Math.max(datapoint.tasks, input.runningTasks);
      targetTrackingIn.push({
        kind: 'capacity',
        capacity: targetTrackingCapacity(Math.max(1, running), datapoint.value, policy.targetValue),
        cause: `${low.name}: ${policy.predefinedMetric} ${round(datapoint.value)} below ${round(low.threshold)} (90 % of target ${policy.targetValue}) for ${low.datapointsToAlarm} datapoints (${running} running tasks)`,
        cooldownMs: policy.scaleInCooldown * 1000,
      });
    }
  }
  // AAS scales in on target tracking only when every target-tracking policy that may scale in is ready to.
  if (lowAlarmsAgree) scaleIn.push(...targetTrackingIn);

  for (const policy of spec.stepScaling ?? []) {
    const alarm: Alarm = {
      name: policy.name,
      metric: policy.metric,
      statistic: policy.metricAggregationType,
      comparison: policy.comparisonOperator,
      threshold: policy.threshold,
      datapointsToAlarm: policy.evaluationPeriods,
      periodMs: policy.periodSeconds * 1000,
    };
    evaluate(alarm);
    const firing = fired.get(alarm.name);
    if (!firing) continue;
    const step = stepFor(policy.stepAdjustments, firing.datapoint.value, policy.threshold);
    if (!step) continue;
    const proposal: Proposal = {
      kind: 'step',
      type: policy.adjustmentType,
      adjustment: step.scalingAdjustment,
      ...(policy.minAdjustmentMagnitude !== undefined && { minAdjustmentMagnitude: policy.minAdjustmentMagnitude }),
      cause: `step scaling ${policy.name}: ${policy.metric} ${round(firing.datapoint.value)} ${comparisonWords[alarm.comparison]} ${policy.threshold} for ${policy.evaluationPeriods} datapoints: ${policy.adjustmentType} ${step.scalingAdjustment}`,
      cooldownMs: policy.cooldown * 1000,
    };
    const grows = policy.adjustmentType === 'ExactCapacity' ? step.scalingAdjustment > desired : step.scalingAdjustment > 0;
    (grows ? scaleOut : scaleIn).push(proposal);
  }

  // The machine, restored from the cooldown the stored status shows running.
  const context = restoredContext(stored, desired, nowMs);
  const [initial] = initialTransition(autoScalingMachine, context);
  const restored = context.scaleOut
    ? autoScalingMachine.resolveState({ value: 'SCALED_OUT', context })
    : context.scaleInEndsAt !== undefined
      ? autoScalingMachine.resolveState({ value: 'SCALED_IN', context })
      : initial;
  const observation: PolicyObservation = {
    type: 'OBSERVED',
    now: nowMs,
    bounds,
    scaleOut,
    scaleIn,
    ...(input.deploymentInProgress && { scaleInBlocked: 'a deployment is in progress' }),
  };
  const [next, actions] = transition(autoScalingMachine, restored, observation);
  const decision = actions.filter((action) => action.type === 'recordScaling').map((action) => action.params as RecordScaling)[0];
  let { lastScaleOut, lastScaleIn } = stored ?? {};
  if (decision) {
    effects.push(event('Normal', decision.direction === 'out' ? 'ScaledOut' : 'ScaledIn', `desiredCount ${decision.from} → ${decision.to}: ${decision.cause}`));
    record(decision.to, decision.cause);
    if (decision.direction === 'out') {
      lastScaleOut = {
        time,
        from: next.context.scaleOut!.base,
        to: decision.to,
        cause: decision.cause,
        cooldownEndsAt: metaTime(next.context.scaleOut!.endsAt),
      };
    } else {
      lastScaleIn = { time, from: decision.from, to: decision.to, cause: decision.cause, cooldownEndsAt: metaTime(next.context.scaleInEndsAt!) };
    }
  }
  for (const end of [next.context.scaleOut?.endsAt, next.context.scaleInEndsAt]) if (end !== undefined) wakeUps.push(end);

  const status: AutoScalingStatus = {
    ...bounds,
    declaredMinCapacity: spec.minCapacity,
    declaredMaxCapacity: spec.maxCapacity,
    ...(alarms.length > 0 && { alarms }),
    ...(scheduled.length > 0 && { scheduledActions: scheduled }),
    ...(lastScaleOut && { lastScaleOut }),
    ...(lastScaleIn && { lastScaleIn }),
    ...(activity && { lastScalingActivity: activity }),
  };
  const future = wakeUps.filter((at) => at > nowMs);
  return {
    status,
    ...(desired !== service.spec.desiredCount && { desiredCount: desired }),
    effects,
    ...(future.length > 0 && { requeueAfterMs: Math.min(...future) - nowMs }),
  };
}

function parsed(expression: string, timezone: string | undefined): Schedule | string {
  try {
    return parseSchedule(expression, timezone);
  } catch (error) {
    if (error instanceof ScheduleError) return error.message;
    throw error;
  }
}

function targetTrackingAlarm(metric: ScalingMetric, which: 'high' | 'low', target: number, periodMs: number): Alarm {
  const { datapointsToAlarm, thresholdFactor } = targetTrackingAlarms[which];
  return {
    name: `TargetTracking-${metric}-Alarm${which === 'high' ? 'High' : 'Low'}`,
    metric,
    statistic: 'Average',
    comparison: which === 'high' ? 'GreaterThanThreshold' : 'LessThanThreshold',
    threshold: target * thresholdFactor,
    datapointsToAlarm,
    periodMs,
  };
}

/** The cooldown still running, if any: the later of the last scale-out and scale-in (a scale-out ends a scale-in's cooldown). */
function restoredContext(stored: AutoScalingStatus | undefined, desiredCount: number, now: number): AutoScalingContext {
  const out = stored?.lastScaleOut;
  const inward = stored?.lastScaleIn;
  const outRuns = out !== undefined && Date.parse(out.cooldownEndsAt) > now;
  const inRuns = inward !== undefined && Date.parse(inward.cooldownEndsAt) > now;
  // The later activity ended the other direction's cooldown (a scale-out ends a scale-in's; a scale-in drops the
  // scale-out cooldown's base), whether or not its own still runs.
  const outIsLater = out !== undefined && (inward === undefined || Date.parse(out.time) >= Date.parse(inward.time));
  if (outIsLater) return outRuns ? { desiredCount, scaleOut: { endsAt: Date.parse(out.cooldownEndsAt), base: out.from } } : { desiredCount };
  return inRuns ? { desiredCount, scaleInEndsAt: Date.parse(inward.cooldownEndsAt) } : { desiredCount };
}

const comparisonWords: Record<Comparison, string> = {
  GreaterThanOrEqualToThreshold: '>=',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

const clamp = (value: number, bounds: { minCapacity: number; maxCapacity: number }) => Math.min(bounds.maxCapacity, Math.max(bounds.minCapacity, value));
const round = (value: number) => Math.round(value * 100) / 100;
const event = (kind: AutoScalingEvent['kind'], reason: AutoScalingEvent['reason'], message: string): AutoScalingEvent => ({
  type: 'recordEvent',
  kind,
  reason,
  message,
});
