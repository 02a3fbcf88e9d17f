import type { Service } from '../../api';
import { decideAutoScaling, type AutoScalingDecision, type AutoScalingSpec } from './decide-autoscaling';
import type { Datapoint } from './utilization';

const period = 60_000;
const t0 = Date.parse('2026-03-02T08:00:00Z'); // a Monday

function serviceWith(
  autoScaling: Partial<AutoScalingSpec>,
  desiredCount: number,
  status?: Service['status'],
): Service & { spec: { autoScaling: AutoScalingSpec } } {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', generation: 4 },
    spec: { desiredCount, autoScaling: { minCapacity: 1, maxCapacity: 10, ...autoScaling } },
    ...(status && { status }),
  } as Service & { spec: { autoScaling: AutoScalingSpec } };
}

/** Runs decisions every `period` from t0 over the datapoints given, carrying status and desiredCount along. */
function runMinutes(
  autoScaling: Partial<AutoScalingSpec>,
  desiredCount: number,
  datapoints: (Datapoint | undefined)[],
  extra: { deploymentInProgress?: boolean } = {},
) {
  let service = serviceWith(autoScaling, desiredCount);
  const decisions: AutoScalingDecision[] = [];
  datapoints.forEach((datapoint, minute) => {
    const decision = decideAutoScaling({
      service,
      now: new Date(t0 + minute * period),
      periodMs: period,
      // Each minute's datapoint holds a report newer than the last.
      datapoint: () => datapoint && { ...datapoint, sampledAt: t0 + minute * period - 1000 },
      deploymentInProgress: extra.deploymentInProgress ?? false,
      runningTasks: datapoint?.tasks ?? 0,
    });
    decisions.push(decision);
    service = serviceWith(service.spec.autoScaling, decision.desiredCount ?? service.spec.desiredCount, { autoScaling: decision.status });
  });
  return { decisions, service };
}

const cpu = (value: number, tasks: number, sampledAt = 0): Datapoint => ({ value, tasks, sampledAt });

/** One decision at `at` (milliseconds since the epoch), with `datapoint` for every metric, no deployment under way. */
const decideAt = (service: ReturnType<typeof serviceWith>, at: number, datapoint?: Datapoint, runningTasks = 0) =>
  decideAutoScaling({ service, now: new Date(at), periodMs: period, datapoint: () => datapoint, deploymentInProgress: false, runningTasks });
const targetCpu50 = {
  targetTracking: [
    { predefinedMetric: 'ECSServiceAverageCPUUtilization' as const, targetValue: 50, scaleInCooldown: 300, scaleOutCooldown: 300, disableScaleIn: false },
  ],
};

describe('target tracking', () => {
  test('three datapoints above target scale out to ceil(running × metric / target): 4 tasks at 80 % → 7', () => {
    const { decisions } = runMinutes(targetCpu50, 4, [cpu(80, 4), cpu(80, 4), cpu(80, 4)]);
    expect(decisions.map((d) => d.desiredCount)).toEqual([undefined, undefined, 7]);
    expect(decisions[2].effects).toEqual([
      {
        type: 'recordEvent',
        kind: 'Normal',
        reason: 'ScaledOut',
        message:
          'desiredCount 4 → 7: TargetTracking-ECSServiceAverageCPUUtilization-AlarmHigh: ECSServiceAverageCPUUtilization 80 above target 50 for 3 datapoints (4 running tasks)',
      },
    ]);
    expect(decisions[2].status.lastScaleOut).toMatchObject({ from: 4, to: 7, time: '2026-03-02T08:02:00Z', cooldownEndsAt: '2026-03-02T08:07:00Z' });
  });

  test('fifteen datapoints under 90 % of the target scale in; fourteen do not; 46 % on a 50 % target never does', () => {
    const low = runMinutes(
      targetCpu50,
      10,
      Array.from({ length: 15 }, () => cpu(20, 10)),
    );
    expect(low.decisions.map((d) => d.desiredCount).filter((d) => d !== undefined)).toEqual([4]);
    expect(low.decisions[14].desiredCount).toBe(4);
    expect(
      runMinutes(
        targetCpu50,
        10,
        Array.from({ length: 14 }, () => cpu(20, 10)),
      ).service.spec.desiredCount,
    ).toBe(10);
    expect(
      runMinutes(
        targetCpu50,
        10,
        Array.from({ length: 30 }, () => cpu(46, 10)),
      ).service.spec.desiredCount,
    ).toBe(10);
  });

  test('missing data never scales: an INSUFFICIENT_DATA datapoint breaks the run', () => {
    const { decisions, service } = runMinutes(targetCpu50, 4, [cpu(80, 4), cpu(80, 4), undefined, cpu(80, 4), cpu(80, 4)]);
    expect(service.spec.desiredCount).toBe(4);
    expect(decisions[2].status.alarms?.map((a) => a.state)).toEqual(['INSUFFICIENT_DATA', 'INSUFFICIENT_DATA']);
  });

  test('disableScaleIn keeps no low alarm and never scales in', () => {
    const policy = { targetTracking: [{ ...targetCpu50.targetTracking[0], disableScaleIn: true }] };
    const { decisions, service } = runMinutes(
      policy,
      10,
      Array.from({ length: 20 }, () => cpu(5, 10)),
    );
    expect(service.spec.desiredCount).toBe(10);
    expect(decisions[0].status.alarms?.map((a) => a.name)).toEqual(['TargetTracking-ECSServiceAverageCPUUtilization-AlarmHigh']);
  });

  test('no scale-in while a deployment is in progress (ECS turns it off), scale-out still', () => {
    expect(
      runMinutes(
        targetCpu50,
        10,
        Array.from({ length: 16 }, () => cpu(5, 10)),
        { deploymentInProgress: true },
      ).service.spec.desiredCount,
    ).toBe(10);
    expect(runMinutes(targetCpu50, 4, [cpu(80, 4), cpu(80, 4), cpu(80, 4)], { deploymentInProgress: true }).service.spec.desiredCount).toBe(7);
  });

  test('scale in only when every target-tracking policy that may scale in agrees', () => {
    const both = {
      targetTracking: [
        targetCpu50.targetTracking[0],
        {
          predefinedMetric: 'ECSServiceAverageMemoryUtilization' as const,
          targetValue: 50,
          scaleInCooldown: 300,
          scaleOutCooldown: 300,
          disableScaleIn: false,
        },
      ],
    };
    let service = serviceWith(both, 10);
    for (let minute = 0; minute < 20; minute++) {
      const decision = decideAutoScaling({
        service,
        now: new Date(t0 + minute * period),
        periodMs: period,
        // CPU idle, memory at target: memory's low alarm never fires, so no scale-in.
        datapoint: (metric) => (metric === 'ECSServiceAverageCPUUtilization' ? cpu(5, 10) : cpu(50, 10)),
        deploymentInProgress: false,
        runningTasks: 0,
      });
      service = serviceWith(both, decision.desiredCount ?? service.spec.desiredCount, { autoScaling: decision.status });
    }
    expect(service.spec.desiredCount).toBe(10);
  });

  test('a datapoint is taken once a period: a decision between two takes none', () => {
    const first = decideAt(serviceWith(targetCpu50, 4), t0, cpu(80, 4));
    const between = decideAt(serviceWith(targetCpu50, 4, { autoScaling: first.status }), t0 + 30_000, cpu(80, 4));
    expect(between.status.alarms).toEqual(first.status.alarms);
    expect(between.requeueAfterMs).toBe(30_000);
  });
});

describe('step scaling', () => {
  const steps = {
    stepScaling: [
      {
        name: 'cpu-high',
        metric: 'ECSServiceAverageCPUUtilization' as const,
        comparisonOperator: 'GreaterThanOrEqualToThreshold' as const,
        threshold: 70,
        evaluationPeriods: 2,
        periodSeconds: 60,
        metricAggregationType: 'Average' as const,
        adjustmentType: 'ChangeInCapacity' as const,
        stepAdjustments: [
          { metricIntervalLowerBound: 0, metricIntervalUpperBound: 20, scalingAdjustment: 1 },
          { metricIntervalLowerBound: 20, scalingAdjustment: 3 },
        ],
        cooldown: 120,
      },
    ],
  };

  test('the step the datapoint falls in, after evaluationPeriods; within the cooldown a larger step adds only the difference', () => {
    // 75 % for 2 datapoints: [0, 20) → +1 (4 → 5); then 95 %: [20, ∞) → +3 from the cooldown's base 4 = 7.
    const { decisions } = runMinutes(steps, 4, [cpu(75, 4), cpu(75, 4), cpu(95, 5), cpu(95, 5)]);
    expect(decisions.map((d) => d.desiredCount)).toEqual([undefined, 5, 7, undefined]);
    expect(decisions[2].effects[0].message).toBe(
      'desiredCount 5 → 7: step scaling cpu-high: ECSServiceAverageCPUUtilization 95 >= 70 for 2 datapoints: ChangeInCapacity 3',
    );
  });

  test('once the cooldown ends, the alarm still in ALARM steps again from desiredCount', () => {
    const { decisions } = runMinutes(steps, 4, [cpu(75, 4), cpu(75, 4), cpu(75, 5), cpu(75, 5), cpu(75, 5)]);
    // Scaled at minute 1 (to 5), cooldown to minute 3: minute 3 steps again (to 6).
    expect(decisions.map((d) => d.desiredCount)).toEqual([undefined, 5, undefined, 6, undefined]);
  });
});

describe('bounds and scheduled actions', () => {
  test('new or changed bounds move desiredCount inside them at once', () => {
    const decision = decideAt(serviceWith({ minCapacity: 2, maxCapacity: 5 }, 8), t0);
    expect(decision.desiredCount).toBe(5);
    expect(decision.status.lastScalingActivity).toEqual({
      time: '2026-03-02T08:00:00Z',
      from: 8,
      to: 5,
      cause: 'autoScaling minCapacity..maxCapacity is 2..5',
      observedGeneration: 4,
    });
  });

  test("a manual desiredCount outside unchanged bounds is left until a policy acts (ECS's rule)", () => {
    const first = decideAt(serviceWith({ minCapacity: 2, maxCapacity: 5 }, 3), t0);
    const later = decideAt(serviceWith({ minCapacity: 2, maxCapacity: 5 }, 9, { autoScaling: first.status }), t0 + period);
    expect(later.desiredCount).toBeUndefined();
  });

  test('a cron action in its time zone sets min and max at its time and moves desiredCount inside; the next run is in status', () => {
    // 09:00 in New York on weekdays is 14:00 UTC in March 2026 after DST (8 March): Monday 2 March is still EST, 14:00 UTC.
    const action = { name: 'business-hours', schedule: 'cron(0 9 ? * MON-FRI *)', timezone: 'America/New_York', minCapacity: 6, maxCapacity: 12 };
    const spec = { scheduledActions: [action] };
    const seen = decideAt(serviceWith(spec, 2), t0);
    expect(seen.desiredCount).toBeUndefined();
    expect(seen.status.scheduledActions).toEqual([
      { name: 'business-hours', schedule: 'cron(0 9 ? * MON-FRI *) America/New_York', firstSeenAt: '2026-03-02T08:00:00Z', nextRunAt: '2026-03-02T14:00:00Z' },
    ]);
    expect(seen.requeueAfterMs).toBe(6 * 3600_000);
    const ran = decideAt(serviceWith(spec, 2, { autoScaling: seen.status }), Date.parse('2026-03-02T14:00:00Z'));
    expect(ran.desiredCount).toBe(6);
    expect(ran.status).toMatchObject({ minCapacity: 6, maxCapacity: 12, declaredMinCapacity: 1, declaredMaxCapacity: 10 });
    expect(ran.status.scheduledActions?.[0]).toMatchObject({ lastRunAt: '2026-03-02T14:00:00Z', nextRunAt: '2026-03-03T14:00:00Z' });
    expect(ran.effects.map((e) => e.reason)).toEqual(['ScheduledActionRan']);
    // The bounds it set stay in force afterwards (until the spec's own bounds change).
    const after = decideAt(serviceWith(spec, 6, { autoScaling: ran.status }), Date.parse('2026-03-02T15:00:00Z'));
    expect(after.status).toMatchObject({ minCapacity: 6, maxCapacity: 12 });
    expect(after.desiredCount).toBeUndefined();
  });

  test('runs missed while the operator was away run once, the latest; an action that would invert the bounds is refused with a Warning', () => {
    const spec = { scheduledActions: [{ name: 'night', schedule: 'rate(1 hour)', minCapacity: 1, maxCapacity: 3 }] };
    const seen = decideAt(serviceWith(spec, 8), t0);
    const later = decideAt(serviceWith(spec, 8, { autoScaling: seen.status }), t0 + 5.5 * 3600_000);
    expect(later.effects.map((e) => e.message)).toEqual([
      'scheduled action night (rate(1 hour), due 2026-03-02T13:00:00Z) set capacity 1..3: desiredCount 8 → 3',
    ]);
    const inverted = { scheduledActions: [{ name: 'bad', schedule: 'rate(1 minute)', minCapacity: 20 }] };
    const first = decideAt(serviceWith(inverted, 4), t0);
    const refused = decideAt(serviceWith(inverted, 4, { autoScaling: first.status }), t0 + period);
    expect(refused.effects).toEqual([
      expect.objectContaining({
        kind: 'Warning',
        reason: 'ScheduledActionRefused',
        message: expect.stringContaining('minCapacity 20 would exceed maxCapacity 10'),
      }),
    ]);
    expect(refused.desiredCount).toBeUndefined();
  });

  test('a service taken back from an HPA is moved inside its bounds at once', () => {
    const stored = { minCapacity: 1, maxCapacity: 10, declaredMinCapacity: 1, declaredMaxCapacity: 10, horizontalPodAutoscaler: 'web' };
    const decision = decideAt(serviceWith({}, 14, { autoScaling: stored }), t0);
    expect(decision.desiredCount).toBe(10);
    expect(decision.status.horizontalPodAutoscaler).toBeUndefined();
  });
});

describe('what the review found', () => {
  const decide = (service: ReturnType<typeof serviceWith>, minute: number, datapoint: Datapoint | undefined, runningTasks = datapoint?.tasks ?? 0) =>
    decideAt(service, t0 + minute * period, datapoint, runningTasks);

  test('one report is one datapoint: the same report three periods running never makes three breaching datapoints', () => {
    let service = serviceWith(targetCpu50, 4);
    const report = cpu(80, 4, t0);
    for (let minute = 0; minute < 3; minute++) {
      const decision = decide(service, minute, report);
      expect(decision.desiredCount).toBeUndefined();
      service = serviceWith(targetCpu50, 4, { autoScaling: decision.status });
    }
    expect(service.status?.autoScaling?.alarms?.[0]).toMatchObject({ breachingDatapoints: 1 });
  });

  test('scale-in counts from every RUNNING task: 10 running, 3 reporting 40 % on a 50 % target → 8, not 3', () => {
    let service = serviceWith(targetCpu50, 10);
    let decision;
    for (let minute = 0; minute < 15; minute++) {
      decision = decide(service, minute, cpu(40, 3, t0 + minute * period), 10);
      service = serviceWith(targetCpu50, decision.desiredCount ?? service.spec.desiredCount, { autoScaling: decision.status });
    }
    expect(service.spec.desiredCount).toBe(8);
  });

  test('after a gap of more than two periods the breaching count starts again', () => {
    let service = serviceWith(targetCpu50, 4);
    for (const minute of [0, 1, 300]) {
      const decision = decide(service, minute, cpu(80, 4, t0 + minute * period));
      service = serviceWith(targetCpu50, decision.desiredCount ?? 4, { autoScaling: decision.status });
    }
    expect(service.spec.desiredCount).toBe(4);
    expect(service.status?.autoScaling?.alarms?.[0]).toMatchObject({ breachingDatapoints: 1 });
  });

  test('a scale-out ends the scale-in cooldown, even once its own cooldown is over', () => {
    const stored = {
      minCapacity: 1,
      maxCapacity: 10,
      declaredMinCapacity: 1,
      declaredMaxCapacity: 10,
      lastScaleIn: { time: '2026-03-02T08:00:00Z', from: 8, to: 6, cause: 'in', cooldownEndsAt: '2026-03-02T08:10:00Z' },
      lastScaleOut: { time: '2026-03-02T08:01:00Z', from: 6, to: 7, cause: 'out', cooldownEndsAt: '2026-03-02T08:02:00Z' },
      alarms: Array.from({ length: 1 }, () => ({
        name: 'TargetTracking-ECSServiceAverageCPUUtilization-AlarmLow',
        state: 'OK' as const,
        breachingDatapoints: 14,
        evaluatedAt: '2026-03-02T08:04:00Z',
        sampledAt: '2026-03-02T08:04:00Z',
      })),
    };
    const decision = decide(serviceWith(targetCpu50, 7, { autoScaling: stored }), 5, cpu(10, 7, t0 + 5 * period));
    expect(decision.desiredCount).toBe(2); // ceil(7 × 10 / 50)
  });
});

describe('target tracking on ALBRequestCountPerTarget', () => {
  const target300 = {
    minCapacity: 0,
    targetTracking: [
      { predefinedMetric: 'ALBRequestCountPerTarget' as const, targetValue: 300, scaleInCooldown: 0, scaleOutCooldown: 0, disableScaleIn: false },
    ],
  };
  // requestCountPerTarget's datapoints: the service's requests a minute over its RUNNING tasks.
  const perTarget = (requestsPerMinute: number, running: number): Datapoint => ({
    value: requestsPerMinute / Math.max(1, running),
    tasks: running,
    sampledAt: 0,
  });

  test('sizes the service by its total: 2,400 a minute on 2 tasks (1,200 each) at target 300 → 8 tasks', () => {
    const { decisions } = runMinutes(target300, 2, [perTarget(2400, 2), perTarget(2400, 2), perTarget(2400, 2)]);
    expect(decisions.map((d) => d.desiredCount)).toEqual([undefined, undefined, 8]);
    expect(decisions[2].effects[0].message).toBe(
      'desiredCount 2 → 8: TargetTracking-ALBRequestCountPerTarget-AlarmHigh: ALBRequestCountPerTarget 1200 above target 300 for 3 datapoints (2 running tasks)',
    );
  });

  test('a service at 0 tasks comes back when requests arrive: 600 a minute, no task → 2', () => {
    const { decisions } = runMinutes(target300, 0, [perTarget(600, 0), perTarget(600, 0), perTarget(600, 0)]);
    expect(decisions.map((d) => d.desiredCount)).toEqual([undefined, undefined, 2]);
  });

  test('scales in on fifteen low datapoints, to the total over the target: 400 a minute on 4 tasks → 2; no requests → minCapacity 0', () => {
    const quiet = runMinutes(
      target300,
      4,
      Array.from({ length: 15 }, () => perTarget(400, 4)),
    );
    expect(quiet.decisions.map((d) => d.desiredCount).filter((d) => d !== undefined)).toEqual([2]);
    const idle = runMinutes(
      target300,
      4,
      Array.from({ length: 15 }, () => perTarget(0, 4)),
    );
    expect(idle.decisions.map((d) => d.desiredCount).filter((d) => d !== undefined)).toEqual([0]);
  });
});
