/** Service: keeps tasks of one task definition running and rolls out new revisions, as an ECS service does. */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../store/object-store';
import { age, defineKind, type KindRoot } from '../kind';
import { reject, rule, s, type Infer, type InferInput } from '../schema';
import { scheduleProblem, timezoneProblem } from '../schedule';
import {
  capacityProviderStrategy,
  conditions,
  launchType,
  launchTypeOrStrategy,
  labelSelector,
  launchTypesNotSupportedYet,
  objectName,
  observedGeneration,
  placementConstraints,
  placementStrategies,
  taskDefinitionReference,
  timestamp,
} from './common';

const scalingMetric = () =>
  s
    .enum(['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization', 'ALBRequestCountPerTarget'])
    .describe('Average CPU or memory utilization of the service in percent, or requests per minute per RUNNING task (from requestCountMetric).');

const requestCountPolicy = 'ALBRequestCountPerTarget';

/**
 * Where ALBRequestCountPerTarget comes from. ECS reads the ALB's RequestCount for a target group; Berth reads the
 * service's requests from the Kubernetes external metrics API (external.metrics.k8s.io, the API the HPA's
 * External metrics read: prometheus-adapter, KEDA, the CloudWatch adapter serve it), named as an HPA names one.
 */
const requestCountMetric = s
  .object({
    name: s
      .string({ minLength: 1, maxLength: 253, pattern: '^[^/%?#]+$' })
      .describe(
        "The external metric: the service's requests per minute, all its targets together (CloudWatch's RequestCount Sum over one minute; from Prometheus, sum(rate(...[1m])) * 60). Items matching the selector are added up.",
      ),
    selector: labelSelector('Labels of the external metric that select this service’s series.').optional(),
  })
  .describe('The external metric (external.metrics.k8s.io, in the Service’s namespace) that ALBRequestCountPerTarget divides by the RUNNING tasks.');

const cooldown = (what: string) => s.integer({ minimum: 0, maximum: 86400 }).describe(`Seconds after a ${what} before the next one.`).default(300);

const targetTracking = s.object({
  predefinedMetric: scalingMetric(),
  targetValue: s
    .number({ minimum: 0 })
    .describe('The value the metric is kept at.')
    .withRules(
      rule({ cel: 'self > 0.0', message: 'must be above 0: the new capacity is the running tasks × metric / targetValue', check: (self) => self > 0 }),
    ),
  scaleInCooldown: cooldown('scale-in'),
  scaleOutCooldown: cooldown('scale-out'),
  disableScaleIn: s.boolean().describe('Only ever scale out.').default(false),
});

const stepAdjustment = s
  .object({
    metricIntervalLowerBound: s.number().describe('Lower bound of the step, relative to the threshold (inclusive).').optional(),
    metricIntervalUpperBound: s.number().describe('Upper bound of the step, relative to the threshold (exclusive).').optional(),
    scalingAdjustment: s.integer().describe('How much to change the capacity, as adjustmentType says.'),
  })
  .withRules(
    rule({
      cel: '!has(self.metricIntervalLowerBound) || !has(self.metricIntervalUpperBound) || self.metricIntervalLowerBound < self.metricIntervalUpperBound',
      message: 'metricIntervalLowerBound must be below metricIntervalUpperBound',
      fieldPath: '.metricIntervalUpperBound',
      check: (self) =>
        self.metricIntervalLowerBound === undefined ||
        self.metricIntervalUpperBound === undefined ||
        self.metricIntervalLowerBound < self.metricIntervalUpperBound,
    }),
  );

type StepAdjustment = Infer<typeof stepAdjustment>;

/**
 * Application Auto Scaling's rules for the steps of one policy, which CEL cannot state over a list: sorted by
 * lower bound, each step starts where the one before ends (no gap, no overlap); only the lowest may be open
 * below (−∞) and only the highest open above (+∞); an open end is needed as soon as a bound goes that way.
 * With threshold 50: [0, 10) and [10, ∞) cover 50 and up; [0, 10) and [20, ∞) leave 60 to 70 uncovered.
 */
export function stepAdjustmentsProblem(steps: StepAdjustment[]): string | undefined {
  const lower = (step: StepAdjustment) => step.metricIntervalLowerBound ?? -Infinity;
  const upper = (step: StepAdjustment) => step.metricIntervalUpperBound ?? Infinity;
  const bound = (value: number) => (Number.isFinite(value) ? String(value) : value > 0 ? '+infinity' : '-infinity');
  if (steps.some((step) => step.metricIntervalLowerBound === undefined && step.metricIntervalUpperBound === undefined)) {
    return 'a step needs metricIntervalLowerBound or metricIntervalUpperBound: a step open at both ends leaves no room for another';
  }
  if (steps.filter((step) => step.metricIntervalLowerBound === undefined).length > 1) return 'only one step may leave out metricIntervalLowerBound';
  if (steps.filter((step) => step.metricIntervalUpperBound === undefined).length > 1) return 'only one step may leave out metricIntervalUpperBound';
  const sorted = [...steps].sort((a, b) => lower(a) - lower(b));
  for (let i = 1; i < sorted.length; i++) {
    const [before, after] = [sorted[i - 1], sorted[i]];
    if (upper(before) < lower(after)) return `the steps leave a gap between ${bound(upper(before))} and ${bound(lower(after))} past the threshold`;
    if (upper(before) > lower(after)) return `the steps overlap between ${bound(lower(after))} and ${bound(upper(before))} past the threshold`;
  }
  if (lower(sorted[0]) < 0 && Number.isFinite(lower(sorted[0]))) {
    return `a step with a negative metricIntervalLowerBound (${lower(sorted[0])}) needs a step below it without metricIntervalLowerBound`;
  }
  if (upper(sorted.at(-1)!) > 0 && Number.isFinite(upper(sorted.at(-1)!))) {
    return `a step with a positive metricIntervalUpperBound (${upper(sorted.at(-1)!)}) needs a step above it without metricIntervalUpperBound`;
  }
  return undefined;
}

const stepScaling = s
  .object({
    name: s.string({ minLength: 1, maxLength: 255 }).describe('The policy name.'),
    metric: scalingMetric(),
    comparisonOperator: s
      .enum(['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'])
      .describe('How the metric is compared with threshold to fire the alarm.'),
    threshold: s.number().describe('The alarm threshold.'),
    evaluationPeriods: s.integer({ minimum: 1, maximum: 100 }).describe('Periods the comparison must hold before the alarm fires.').default(1),
    periodSeconds: s.integer({ minimum: 10, maximum: 86400 }).describe('Seconds per evaluation period.').default(60),
    metricAggregationType: s.enum(['Average', 'Minimum', 'Maximum']).describe('How the metric is aggregated over a period.').default('Average'),
    adjustmentType: s
      .enum(['ChangeInCapacity', 'ExactCapacity', 'PercentChangeInCapacity'])
      .describe('Whether scalingAdjustment adds tasks, sets the count, or adds a percentage.'),
    stepAdjustments: s
      .array(stepAdjustment, { minItems: 1, maxItems: 20 })
      .describe('Steps by how far the metric is past the threshold.')
      .withAdmissionCheck(stepAdjustmentsProblem),
    minAdjustmentMagnitude: s.integer({ minimum: 1 }).describe('For PercentChangeInCapacity: change by at least this many tasks.').optional(),
    cooldown: cooldown('scaling activity'),
  })
  .withRules(
    rule({
      cel: `self.metric != '${requestCountPolicy}' || self.metricAggregationType == 'Average'`,
      message: `${requestCountPolicy} is the service's requests over its RUNNING tasks, one value per period: metricAggregationType must be Average`,
      fieldPath: '.metricAggregationType',
      check: (self) => self.metric !== requestCountPolicy || self.metricAggregationType === 'Average',
    }),
    rule({
      cel: "!has(self.minAdjustmentMagnitude) || self.adjustmentType == 'PercentChangeInCapacity'",
      message: 'minAdjustmentMagnitude applies to PercentChangeInCapacity only',
      fieldPath: '.minAdjustmentMagnitude',
      check: (self) => self.minAdjustmentMagnitude === undefined || self.adjustmentType === 'PercentChangeInCapacity',
    }),
  );

const scheduledAction = s
  .object({
    name: s.string({ minLength: 1, maxLength: 255 }).describe('The action name.'),
    schedule: s
      .string({ maxLength: 256, pattern: '^(at|rate|cron)\\(.+\\)$' })
      .describe('at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year).')
      .withAdmissionCheck(scheduleProblem),
    timezone: s.string({ maxLength: 64 }).describe('An IANA time zone for at and cron schedules (default UTC).').withAdmissionCheck(timezoneProblem).optional(),
    minCapacity: s.integer({ minimum: 0 }).describe('The new minCapacity.').optional(),
    maxCapacity: s.integer({ minimum: 0 }).describe('The new maxCapacity.').optional(),
  })
  .withRules(
    rule({
      cel: 'has(self.minCapacity) || has(self.maxCapacity)',
      message: 'a scheduled action sets minCapacity, maxCapacity or both',
      check: (self) => self.minCapacity !== undefined || self.maxCapacity !== undefined,
    }),
    rule({
      cel: '!has(self.minCapacity) || !has(self.maxCapacity) || self.minCapacity <= self.maxCapacity',
      message: 'minCapacity must not exceed maxCapacity',
      fieldPath: '.minCapacity',
      check: (self) => self.minCapacity === undefined || self.maxCapacity === undefined || self.minCapacity <= self.maxCapacity,
    }),
  );

type PolicyMetrics = { targetTracking?: { predefinedMetric: string }[]; stepScaling?: { metric: string }[] };
const usesRequestCount = (self: PolicyMetrics) =>
  (self.targetTracking ?? []).some((p) => p.predefinedMetric === requestCountPolicy) || (self.stepScaling ?? []).some((p) => p.metric === requestCountPolicy);
const usesRequestCountCel = (self: string) =>
  `((has(${self}.targetTracking) && ${self}.targetTracking.exists(p, p.predefinedMetric == '${requestCountPolicy}')) || (has(${self}.stepScaling) && ${self}.stepScaling.exists(p, p.metric == '${requestCountPolicy}')))`;

const autoScaling = s
  .object({
    minCapacity: s.integer({ minimum: 0 }).describe('desiredCount never goes below this.'),
    maxCapacity: s.integer({ minimum: 0 }).describe('desiredCount never goes above this.'),
    targetTracking: s
      .array(targetTracking, { maxItems: 3, mapKeys: ['predefinedMetric'] })
      .describe('Keep a metric at a target value.')
      .optional(),
    stepScaling: s
      .array(stepScaling, { maxItems: 10, mapKeys: ['name'] })
      .describe('Change capacity in steps when a metric passes a threshold.')
      .optional(),
    scheduledActions: s
      .array(scheduledAction, { maxItems: 20, mapKeys: ['name'] })
      .describe('Change min/max capacity at set times.')
      .optional(),
    requestCountMetric: requestCountMetric.optional(),
  })
  .describe('Service auto scaling: changes desiredCount between minCapacity and maxCapacity.')
  .withRules(
    rule({
      cel: 'self.minCapacity <= self.maxCapacity',
      message: 'minCapacity must not exceed maxCapacity',
      fieldPath: '.minCapacity',
      check: (self) => self.minCapacity <= self.maxCapacity,
    }),
    rule({
      cel: `has(self.requestCountMetric) || !(${usesRequestCountCel('self')})`,
      message: `${requestCountPolicy} needs requestCountMetric: the external metric that counts the service's requests (Berth has no load balancer of its own)`,
      fieldPath: '.requestCountMetric',
      reason: 'FieldValueRequired',
      check: (self) => self.requestCountMetric !== undefined || !usesRequestCount(self),
    }),
    rule({
      cel: `!has(self.requestCountMetric) || ${usesRequestCountCel('self')}`,
      message: `requestCountMetric is read only for ${requestCountPolicy}: no targetTracking or stepScaling policy here scales on it`,
      fieldPath: '.requestCountMetric',
      check: (self) => self.requestCountMetric === undefined || usesRequestCount(self),
    }),
  );

const deploymentConfiguration = s
  .object(
    {
      minimumHealthyPercent: s
        .integer({ minimum: 0, maximum: 100 })
        .describe('Floor of running and healthy tasks during a deployment, in percent of desiredCount (rounded up). Absent: 100 for REPLICA, 0 for DAEMON.')
        .optional(),
      maximumPercent: s
        .integer({ minimum: 0, maximum: 2000 })
        .describe(
          'Ceiling of running and pending tasks during a deployment, in percent of desiredCount (rounded down). Absent: 200 for REPLICA, 100 for DAEMON.',
        )
        .optional(),
      deploymentCircuitBreaker: s
        .object({
          enable: s.boolean().describe('Mark a deployment FAILED when its tasks keep failing to reach steady state.').default(false),
          rollback: s.boolean().describe('Roll a FAILED deployment back to the last COMPLETED one.').default(false),
        })
        .describe('Stops a deployment whose tasks keep failing.')
        .default({}),
    },
    { rejected: { alarms: reject(s.anyObject(), 'Berth has no CloudWatch alarms; use deploymentCircuitBreaker') } },
  )
  .describe('How a deployment replaces tasks.')
  .withRules(
    rule({
      cel: '!has(self.minimumHealthyPercent) || !has(self.maximumPercent) || self.minimumHealthyPercent <= self.maximumPercent',
      message: 'minimumHealthyPercent must not exceed maximumPercent',
      fieldPath: '.minimumHealthyPercent',
      check: (self) => self.minimumHealthyPercent === undefined || self.maximumPercent === undefined || self.minimumHealthyPercent <= self.maximumPercent,
    }),
  );

const unsupportedServiceFields = {
  loadBalancers: reject(s.array(s.anyObject()), 'Berth has no load balancer integration yet'),
  serviceRegistries: reject(s.array(s.anyObject()), 'use a Kubernetes Service'),
  serviceConnectConfiguration: reject(s.anyObject(), 'use a Kubernetes Service'),
  networkConfiguration: reject(s.anyObject(), 'Berth gives awsvpc tasks their own network namespace without subnets or security groups'),
  deploymentController: reject(s.anyObject(), 'Berth performs rolling updates only'),
  platformVersion: reject(s.string(), 'Berth has one Fargate platform'),
  role: reject(s.string(), 'Berth needs no service-linked role'),
  enableECSManagedTags: reject(s.boolean(), 'use metadata.labels'),
  propagateTags: reject(s.string(), 'use metadata.labels'),
  tags: reject(s.array(s.anyObject()), 'use metadata.labels'),
  enableExecuteCommand: reject(s.boolean(), 'Berth has no ECS Exec'),
  serviceName: reject(s.string(), 'the service is named by metadata.name'),
  volumeConfigurations: reject(s.array(s.anyObject()), 'declare volumes in the task definition'),
};

/**
 * ECS features this schema declares (and checks the shape of) that Berth does not implement yet.
 * Each is refused until the issue that implements it deletes its refusal here.
 */
const serviceFeaturesNotSupportedYet = [...launchTypesNotSupportedYet<ServiceSpec>()];

const daemonRule = (cel: string, message: string, fieldPath: string, check: (self: ServiceSpec) => boolean) =>
  rule<ServiceSpec>({
    cel: `self.schedulingStrategy != 'DAEMON' || ${cel}`,
    message,
    fieldPath,
    check: (self) => self.schedulingStrategy !== 'DAEMON' || check(self),
  });

/** ECS's deployment limits when the service leaves them out: they depend on the scheduling strategy. */
const defaultLimits = {
  REPLICA: { minimumHealthyPercent: 100, maximumPercent: 200 },
  DAEMON: { minimumHealthyPercent: 0, maximumPercent: 100 },
} as const;

/**
 * The rolling update's bounds for D = desiredCount, rounded as deployment/rolling.ts rounds them: the
 * floor of healthy tasks that must stay up, ceil(D × min / 100), and the ceiling of tasks at once,
 * floor(D × max / 100). A replacement needs ceiling − floor ≥ 1.
 */
function rollingRoom(desiredCount: number, limits: ResolvedDeploymentLimits): { floor: number; ceiling: number } {
  return {
    floor: Math.ceil((limits.minimumHealthyPercent * desiredCount) / 100),
    ceiling: Math.floor((limits.maximumPercent * desiredCount) / 100),
  };
}

const configuration = 'self.deploymentConfiguration';
const replicaLimitCel = (limit: keyof ResolvedDeploymentLimits) =>
  `(has(${configuration}.${limit}) ? ${configuration}.${limit} : ${defaultLimits.REPLICA[limit]})`;
// Integer division truncates, which for these non-negative values is floor; ceil(a / 100) is (a + 99) / 100.
const floorCel = `((self.desiredCount * ${replicaLimitCel('minimumHealthyPercent')} + 99) / 100)`;
const ceilingCel = `(self.desiredCount * ${replicaLimitCel('maximumPercent')} / 100)`;

/**
 * Limits that leave no room are refused when a service is created or its deploymentConfiguration
 * changes, not when desiredCount alone changes (kubectl scale goes through the scale subresource and
 * must not fail); the controller explains the stall then.
 */
const configurationUnchangedCel = `(oldSelf.hasValue() && oldSelf.value().deploymentConfiguration == ${configuration})`;
const configurationUnchanged = (self: ServiceSpec, oldSelf: ServiceSpec | undefined) =>
  oldSelf !== undefined && isDeepStrictEqual(oldSelf.deploymentConfiguration, self.deploymentConfiguration);

const noReplacementHint = 'a deployment could never replace a task';

/** As Kubernetes refuses a Deployment with maxSurge 0 and maxUnavailable 0. */
const replicaDeploymentRoom = rule<ServiceSpec>({
  // A maximumPercent below 100 has its own refusal.
  cel: `self.schedulingStrategy != 'REPLICA' || self.desiredCount == 0 || ${replicaLimitCel('maximumPercent')} < 100 || ${configurationUnchangedCel} || ${ceilingCel} - ${floorCel} >= 1`,
  optionalOldSelf: true,
  message: `minimumHealthyPercent and maximumPercent leave no room: ${noReplacementHint}; lower minimumHealthyPercent or raise maximumPercent`,
  messageExpression: {
    cel: `'with desiredCount %d, minimumHealthyPercent %d keeps %d %s running and maximumPercent %d allows %d at once: ${noReplacementHint}; lower minimumHealthyPercent or raise maximumPercent'.format([self.desiredCount, ${replicaLimitCel('minimumHealthyPercent')}, ${floorCel}, ${floorCel} == 1 ? 'task' : 'tasks', ${replicaLimitCel('maximumPercent')}, ${ceilingCel}])`,
    render: (self) => {
      const limits = deploymentLimits(self);
      const { floor, ceiling } = rollingRoom(self.desiredCount, limits);
      return `with desiredCount ${self.desiredCount}, minimumHealthyPercent ${limits.minimumHealthyPercent} keeps ${floor} ${floor === 1 ? 'task' : 'tasks'} running and maximumPercent ${limits.maximumPercent} allows ${ceiling} at once: ${noReplacementHint}; lower minimumHealthyPercent or raise maximumPercent`;
    },
  },
  fieldPath: '.deploymentConfiguration',
  check: (self, oldSelf) => {
    if (self.schedulingStrategy !== 'REPLICA' || self.desiredCount === 0 || configurationUnchanged(self, oldSelf)) return true;
    const limits = deploymentLimits(self);
    const { floor, ceiling } = rollingRoom(self.desiredCount, limits);
    return limits.maximumPercent < 100 || ceiling - floor >= 1;
  },
});

/**
 * A DAEMON service never runs two tasks on one instance, so its ceiling is every instance's one task;
 * at minimumHealthyPercent 100 its floor is the same, whatever the number of instances.
 */
const daemonDeploymentRoom = rule<ServiceSpec>({
  cel: `self.schedulingStrategy != 'DAEMON' || ${configurationUnchangedCel} || !has(${configuration}.minimumHealthyPercent) || ${configuration}.minimumHealthyPercent < 100`,
  optionalOldSelf: true,
  message: `with minimumHealthyPercent 100 a DAEMON service keeps the task of every instance running and never starts a second one on an instance: ${noReplacementHint}; lower minimumHealthyPercent`,
  fieldPath: '.deploymentConfiguration',
  check: (self, oldSelf) =>
    self.schedulingStrategy !== 'DAEMON' || configurationUnchanged(self, oldSelf) || (self.deploymentConfiguration.minimumHealthyPercent ?? 0) < 100,
});

export const serviceSpec = s
  .object(
    {
      cluster: objectName()
        .describe('The Cluster (in this namespace) the service runs in.')
        .withRules(rule({ cel: 'self == oldSelf', message: 'cluster is immutable', check: (self, oldSelf) => self === oldSelf })),
      taskDefinition: taskDefinitionReference.familyOrRevision().describe('`family` to follow the latest ACTIVE revision, or `family:N` to pin one.'),
      // Defaulted so that the scale subresource always finds it. A DAEMON service keeps the
      // default and the DAEMON rule refuses any other count (an explicit 1 looks the same).
      desiredCount: s
        .integer({ minimum: 0, maximum: 100000 })
        .describe(
          'How many tasks a REPLICA service keeps running. DAEMON services run one task per instance: leave it unset (the stored default 1 is ignored).',
        )
        .default(1),
      launchType: launchType().describe('EC2 (node groups), FARGATE or EXTERNAL (self-managed instances). Exclusive with capacityProviderStrategy.').optional(),
      capacityProviderStrategy: capacityProviderStrategy().optional(),
      schedulingStrategy: s
        .enum(['REPLICA', 'DAEMON'])
        .describe('REPLICA: keep desiredCount tasks; DAEMON: one task on every active instance that meets the constraints.')
        .withRules(rule({ cel: 'self == oldSelf', message: 'schedulingStrategy is immutable', check: (self, oldSelf) => self === oldSelf }))
        .default('REPLICA'),
      deploymentConfiguration: deploymentConfiguration.default({}),
      placementConstraints: placementConstraints().optional(),
      placementStrategy: placementStrategies().optional(),
      healthCheckGracePeriodSeconds: s
        .integer({ minimum: 0, maximum: 2147483647 })
        .describe('Seconds after a task starts during which failed health checks do not count.')
        .optional(),
      autoScaling: autoScaling.optional(),
    },
    { rejected: unsupportedServiceFields },
  )
  .withRules(
    rule({
      cel: "self.schedulingStrategy != 'REPLICA' || !has(self.deploymentConfiguration) || !has(self.deploymentConfiguration.maximumPercent) || self.deploymentConfiguration.maximumPercent >= 100",
      message: 'must be at least 100 for a REPLICA service',
      fieldPath: '.deploymentConfiguration.maximumPercent',
      check: (self) => self.schedulingStrategy !== 'REPLICA' || (self.deploymentConfiguration?.maximumPercent ?? 100) >= 100,
    }),
    replicaDeploymentRoom,
    daemonDeploymentRoom,
    daemonRule(
      '!has(self.desiredCount) || self.desiredCount == 1',
      'a DAEMON service runs one task per instance and takes no desiredCount',
      '.desiredCount',
      (self) => self.desiredCount === 1,
    ),
    daemonRule(
      '!has(self.deploymentConfiguration) || !has(self.deploymentConfiguration.maximumPercent) || self.deploymentConfiguration.maximumPercent <= 100',
      'must be at most 100 for a DAEMON service: it stops a task before starting its replacement',
      '.deploymentConfiguration.maximumPercent',
      (self) => (self.deploymentConfiguration?.maximumPercent ?? 100) <= 100,
    ),
    daemonRule(
      '!has(self.placementStrategy)',
      'a DAEMON service places one task per instance and takes no placementStrategy',
      '.placementStrategy',
      (self) => self.placementStrategy === undefined,
    ),
    daemonRule(
      '!has(self.autoScaling)',
      'a DAEMON service follows its instances and cannot be auto scaled',
      '.autoScaling',
      (self) => self.autoScaling === undefined,
    ),
    daemonRule(
      "!has(self.launchType) || self.launchType != 'FARGATE'",
      'a DAEMON service needs instances: FARGATE has none',
      '.launchType',
      (self) => self.launchType !== 'FARGATE',
    ),
    launchTypeOrStrategy<ServiceSpec>(),
    ...serviceFeaturesNotSupportedYet,
  );

const deployment = s.object({
  id: s.string({ minLength: 1, maxLength: 253 }).describe('The deployment id.'),
  status: s.enum(['PRIMARY', 'ACTIVE', 'INACTIVE']).describe('PRIMARY: the newest; ACTIVE: older, still running tasks; INACTIVE: done.'),
  taskDefinition: taskDefinitionReference.revision().describe('The revision this deployment runs.'),
  desiredCount: s.integer({ minimum: 0 }).describe('Tasks this deployment wants.'),
  runningCount: s.integer({ minimum: 0 }).describe('Tasks of this deployment in RUNNING.'),
  pendingCount: s.integer({ minimum: 0 }).describe('Tasks of this deployment in PENDING.'),
  failedTasks: s.integer({ minimum: 0 }).describe('Tasks of this deployment that failed to reach RUNNING (for the circuit breaker).').default(0),
  rolloutState: s.enum(['IN_PROGRESS', 'COMPLETED', 'FAILED']).describe('Progress of the rollout.'),
  rolloutStateReason: s.string({ maxLength: 1024 }).describe('Why the rollout is in its state.').optional(),
  createdAt: timestamp().describe('When the deployment started.').optional(),
  updatedAt: timestamp().describe('When the deployment last changed.').optional(),
});

const scalingActivityFields = {
  time: timestamp().describe('When Berth decided it.'),
  from: s.integer({ minimum: 0 }).describe('desiredCount before.'),
  to: s.integer({ minimum: 0 }).describe('desiredCount after.'),
  cause: s.string({ maxLength: 1024 }).describe('The policy, alarm or scheduled action behind it, with the metric value.'),
};
const policyActivity = s.object({
  ...scalingActivityFields,
  from: s.integer({ minimum: 0 }).describe('desiredCount before the first scale of its cooldown: what step adjustments count from until the cooldown ends.'),
  cooldownEndsAt: timestamp().describe("When the policy's cooldown ends."),
});

const alarmStatus = s.object({
  name: s.string({ minLength: 1, maxLength: 512 }).describe('TargetTracking-<metric>-AlarmHigh / -AlarmLow, or the step scaling policy name.'),
  state: s.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']).describe('As a CloudWatch alarm: ALARM once enough datapoints in a row breach.'),
  value: s.number().describe('The last datapoint.').optional(),
  breachingDatapoints: s.integer({ minimum: 0 }).describe('Datapoints in a row that breached the threshold, up to the last.'),
  evaluatedAt: timestamp().describe('When the alarm last looked for a datapoint.'),
  sampledAt: timestamp().describe('The newest task usage report in the last datapoint: a report is one datapoint, never two.').optional(),
});

const scheduledActionStatus = s.object({
  name: s.string({ minLength: 1, maxLength: 255 }).describe('The action name.'),
  schedule: s.string({ maxLength: 330 }).describe('The schedule and its time zone as last seen: a changed one starts again.'),
  firstSeenAt: timestamp().describe('When Berth first saw the action: where a rate() counts from.'),
  lastRunAt: timestamp().describe('The scheduled time of its last run.').optional(),
  nextRunAt: timestamp().describe('Its next scheduled time, if any.').optional(),
});

const autoScalingStatus = s.object({
  minCapacity: s.integer({ minimum: 0 }).describe('The minCapacity in force: the spec, or a scheduled action since the spec last changed it.'),
  maxCapacity: s.integer({ minimum: 0 }).describe('The maxCapacity in force.'),
  declaredMinCapacity: s.integer({ minimum: 0 }).describe('spec.autoScaling.minCapacity when the capacity in force was set: a change of it applies at once.'),
  declaredMaxCapacity: s.integer({ minimum: 0 }).describe('spec.autoScaling.maxCapacity when the capacity in force was set.'),
  alarms: s
    .array(alarmStatus, { maxItems: 16, mapKeys: ['name'] })
    .describe('The alarms of the scaling policies.')
    .optional(),
  scheduledActions: s
    .array(scheduledActionStatus, { maxItems: 20, mapKeys: ['name'] })
    .describe('The scheduled actions, when they ran and run next.')
    .optional(),
  lastScaleOut: policyActivity.describe('The last scale-out by a policy.').optional(),
  lastScaleIn: policyActivity.describe('The last scale-in by a policy.').optional(),
  lastScalingActivity: s
    .object({
      ...scalingActivityFields,
      observedGeneration: s.integer({ minimum: 0 }).describe('The Service generation it was decided on: desiredCount is set to `to` until the spec changes.'),
    })
    .describe('The last change of desiredCount Berth made, by a policy, a scheduled action or the bounds.')
    .optional(),
  horizontalPodAutoscaler: s.string({ maxLength: 253 }).describe('An HPA that targets this Service: while it does, Berth does not scale it.').optional(),
});

export const serviceStatus = s.object({
  desiredCount: s
    .integer({ minimum: 0 })
    .describe('The effective desired count: spec.desiredCount (default 1), or the number of eligible instances for DAEMON.')
    .optional(),
  runningCount: s.integer({ minimum: 0 }).describe('Tasks in RUNNING.').optional(),
  pendingCount: s.integer({ minimum: 0 }).describe('Tasks in PENDING.').optional(),
  taskDefinition: taskDefinitionReference.revision().describe('The revision of the PRIMARY deployment.').optional(),
  deployments: s
    .array(deployment, { maxItems: 32, mapKeys: ['id'] })
    .describe('The deployments, PRIMARY first.')
    .optional(),
  selector: s.string({ maxLength: 1024 }).describe("Label selector of the service's tasks, for the scale subresource.").optional(),
  countedFailedTasks: s
    .array(s.string({ maxLength: 64 }), { maxItems: 10000, set: true })
    .describe(
      "Uids of STOPPED tasks whose failed launch is already in their deployment's failedTasks and that still exist. Written with the count, so each failure is counted once, across restarts, and stopped tasks can be removed without losing the count.",
    )
    .optional(),
  autoScaling: autoScalingStatus.describe('Service auto scaling: the capacity in force, alarms, scheduled actions and recent activity.').optional(),
  observedGeneration: observedGeneration().optional(),
  conditions: conditions().optional(),
});

export type ServiceSpec = Infer<typeof serviceSpec>;
export type ServiceSpecInput = InferInput<typeof serviceSpec>;
export type ServiceStatus = Infer<typeof serviceStatus>;
export type ServiceDeployment = Infer<typeof deployment>;

export interface Service extends KubeObject {
  spec: ServiceSpec;
  status?: ServiceStatus;
}

/** The label every task of a service carries, valued with the service's name. */
export const serviceLabel = 'berth.dev/service';

/** Kubernetes' limit on label values (and so on service names, which label values hold). */
const maxLabelValueLength = 63;

const nameFitsTaskLabel = rule<KindRoot>({
  cel: `size(self.metadata.name) <= ${maxLabelValueLength}`,
  message: `must be no more than ${maxLabelValueLength} characters: the service's tasks carry its name as the value of their ${serviceLabel} label, which Kubernetes limits to ${maxLabelValueLength} characters`,
  fieldPath: '.metadata.name',
  // CEL's size() counts code points; on an object without a name it fails (no such key), which refuses too.
  check: (self) => self.metadata?.name !== undefined && [...self.metadata.name].length <= maxLabelValueLength,
});

export const serviceKind = defineKind({
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['bsvc'],
  description: 'An ECS-style service: keeps desiredCount tasks (or one per instance) of a task definition running and rolls out new revisions.',
  spec: serviceSpec.describe('The desired state of the service.'),
  status: serviceStatus.describe('The observed state of the service and its deployments.'),
  scale: { specReplicasPath: '.spec.desiredCount', statusReplicasPath: '.status.runningCount', labelSelectorPath: '.status.selector' },
  rules: [nameFitsTaskLabel],
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
    { name: 'TaskDefinition', type: 'string', jsonPath: '.status.taskDefinition' },
    { name: 'Desired', type: 'integer', jsonPath: '.status.desiredCount' },
    { name: 'Running', type: 'integer', jsonPath: '.status.runningCount' },
    { name: 'Pending', type: 'integer', jsonPath: '.status.pendingCount' },
    { name: 'Rollout', type: 'string', jsonPath: '.status.deployments[?(@.status=="PRIMARY")].rolloutState' },
    age,
    // -o wide: an auto-scaled service's second question, between which bounds it scales and whether it can.
    { name: 'Min', type: 'integer', jsonPath: '.status.autoScaling.minCapacity', priority: 1, description: 'The minCapacity in force.' },
    { name: 'Max', type: 'integer', jsonPath: '.status.autoScaling.maxCapacity', priority: 1, description: 'The maxCapacity in force.' },
    {
      name: 'Scaling',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="ScalingActive")].reason',
      priority: 1,
      description: 'Why auto scaling can or cannot act (the ScalingActive condition).',
    },
    {
      name: 'Last Scaled',
      type: 'date',
      jsonPath: '.status.autoScaling.lastScalingActivity.time',
      priority: 1,
      description: 'When Berth last changed desiredCount.',
    },
  ],
});

/** What a Service's deployment limits are once ECS's strategy-dependent defaults are applied. */
export interface ResolvedDeploymentLimits {
  minimumHealthyPercent: number;
  maximumPercent: number;
}

/**
 * ECS defaults minimumHealthyPercent and maximumPercent by scheduling strategy (REPLICA 100/200,
 * DAEMON 0/100). A schema default cannot depend on a sibling field, so controllers call this.
 */
export function deploymentLimits(spec: ServiceSpec): ResolvedDeploymentLimits {
  const defaults = defaultLimits[spec.schedulingStrategy];
  return {
    minimumHealthyPercent: spec.deploymentConfiguration.minimumHealthyPercent ?? defaults.minimumHealthyPercent,
    maximumPercent: spec.deploymentConfiguration.maximumPercent ?? defaults.maximumPercent,
  };
}
