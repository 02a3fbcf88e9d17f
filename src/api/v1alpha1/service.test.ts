import { services, validatorFor, type Service } from '..';
import { deploymentLimits } from './service';

const validator = validatorFor(services)!;

function stored(spec: Record<string, unknown>, name = 'web'): Service {
  return validator.applyDefaults({ apiVersion: 'berth.dev/v1alpha1', kind: 'Service', metadata: { name }, spec } as unknown as Service);
}

describe('Service defaults', () => {
  it('give a REPLICA service one task and ECS’s 100/200 deployment limits', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'web' });
    expect(service.spec.desiredCount).toBe(1);
    expect(service.spec.deploymentConfiguration.deploymentCircuitBreaker).toEqual({ enable: false, rollback: false });
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 100, maximumPercent: 200 });
  });

  it('let a DAEMON service through with the defaulted desiredCount and no surge', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'node-exporter', schedulingStrategy: 'DAEMON' });
    expect(validator.validate(service)).toEqual([]);
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 0, maximumPercent: 100 });
  });

  it('keep limits the user chose', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'web', deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150 } });
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 50, maximumPercent: 150 });
  });
});

describe('Service names', () => {
  it('fit the label value every task of the service carries: at most 63 characters', () => {
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'web' }, 'w'.repeat(63)))).toEqual([]);
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'web' }, 'w'.repeat(64)))).toEqual([
      'metadata.name: Invalid value: "object": must be no more than 63 characters: the service\'s tasks carry its name as the value of their berth.dev/service label, which Kubernetes limits to 63 characters',
    ]);
  });
});

describe('Service features not supported yet', () => {
  it('leave what Berth implements alone: distinctInstance on a REPLICA service, launchType EC2, lists that ask for nothing', () => {
    const service = stored({
      cluster: 'demo',
      taskDefinition: 'web',
      launchType: 'EC2',
      placementConstraints: [{ type: 'distinctInstance' }],
      placementStrategy: [],
      capacityProviderStrategy: [],
    });
    expect(validator.validate(service)).toEqual([]);
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'node-exporter', schedulingStrategy: 'DAEMON', placementConstraints: [] }))).toEqual(
      [],
    );
  });
});

describe('Service deployment limits that leave no room', () => {
  const replica = (desiredCount: number, minimumHealthyPercent?: number, maximumPercent?: number) =>
    stored({ cluster: 'demo', taskDefinition: 'web', desiredCount, deploymentConfiguration: { minimumHealthyPercent, maximumPercent } });

  it('are refused for a new REPLICA service, with the numbers', () => {
    expect(validator.validate(replica(1, 100, 100))).toEqual([
      'spec.deploymentConfiguration: Invalid value: "object": with desiredCount 1, minimumHealthyPercent 100 keeps 1 task running and maximumPercent 100 allows 1 at once: a deployment could never replace a task; lower minimumHealthyPercent or raise maximumPercent',
    ]);
    expect(validator.validate(replica(2, 60, 120))).toEqual([
      'spec.deploymentConfiguration: Invalid value: "object": with desiredCount 2, minimumHealthyPercent 60 keeps 2 tasks running and maximumPercent 120 allows 2 at once: a deployment could never replace a task; lower minimumHealthyPercent or raise maximumPercent',
    ]);
    expect(validator.validate(replica(1, 50, 100))).toEqual([
      expect.stringContaining('with desiredCount 1, minimumHealthyPercent 50 keeps 1 task running and maximumPercent 100 allows 1 at once'),
    ]);
  });

  it('pass with room for one replacement, with ECS’s defaults, and with no task to replace', () => {
    expect(validator.validate(replica(1))).toEqual([]);
    expect(validator.validate(replica(1, 0, 100))).toEqual([]);
    expect(validator.validate(replica(2, 50, 100))).toEqual([]);
    expect(validator.validate(replica(0, 100, 100))).toEqual([]);
  });

  it('leave a maximumPercent below 100 to its own refusal', () => {
    expect(validator.validate(replica(1, 0, 50))).toEqual([
      'spec.deploymentConfiguration.maximumPercent: Invalid value: "object": must be at least 100 for a REPLICA service',
    ]);
  });

  it('are refused only when deploymentConfiguration changes: scaling alone passes', () => {
    const old = replica(2, 100, 150);
    expect(validator.validate(old)).toEqual([]);
    expect(validator.validate(replica(1, 100, 150), old)).toEqual([]);
    expect(validator.validate(replica(1, 100, 140), replica(1, 100, 150))).toEqual([expect.stringContaining('with desiredCount 1, minimumHealthyPercent 100')]);
  });

  it('are refused for a DAEMON service at minimumHealthyPercent 100, which keeps every instance’s only task', () => {
    const daemon = (minimumHealthyPercent: number) =>
      stored({ cluster: 'demo', taskDefinition: 'node-exporter', schedulingStrategy: 'DAEMON', deploymentConfiguration: { minimumHealthyPercent } });
    expect(validator.validate(daemon(100))).toEqual([
      'spec.deploymentConfiguration: Invalid value: "object": with minimumHealthyPercent 100 a DAEMON service keeps the task of every instance running and never starts a second one on an instance: a deployment could never replace a task; lower minimumHealthyPercent',
    ]);
    expect(validator.validate(daemon(99))).toEqual([]);
    const existing = { ...daemon(100), metadata: { name: 'node-exporter', labels: { team: 'a' } } };
    expect(validator.validate({ ...existing, metadata: { name: 'node-exporter', labels: { team: 'b' } } }, existing)).toEqual([]);
  });
});

describe('Service updates', () => {
  it('refuse moving a service to another cluster or scheduling strategy', () => {
    const old = stored({ cluster: 'demo', taskDefinition: 'web' });
    const moved = stored({ cluster: 'other', taskDefinition: 'web', schedulingStrategy: 'DAEMON' });
    expect(validator.validate(moved, old)).toEqual([
      'spec.cluster: Invalid value: "string": cluster is immutable',
      'spec.schedulingStrategy: Invalid value: "string": schedulingStrategy is immutable',
    ]);
  });

  it('validate status too, as a status update does', () => {
    const service = { ...stored({ cluster: 'demo', taskDefinition: 'web' }), status: { runningCount: -1, deployments: [{ id: 'd1' }] } };
    expect(validator.validate(service)).toEqual([
      'status.runningCount: Invalid value: -1: status.runningCount in body should be greater than or equal to 0',
      'status.deployments[0].status: Required value',
      'status.deployments[0].taskDefinition: Required value',
      'status.deployments[0].desiredCount: Required value',
      'status.deployments[0].runningCount: Required value',
      'status.deployments[0].pendingCount: Required value',
      'status.deployments[0].rolloutState: Required value',
    ]);
  });
});

describe('Service autoScaling', () => {
  const withScaling = (autoScaling: Record<string, unknown>) =>
    stored({ cluster: 'demo', taskDefinition: 'web', autoScaling: { minCapacity: 1, maxCapacity: 4, ...autoScaling } });
  const stepPolicy = (stepAdjustments: Record<string, unknown>[]) => ({
    stepScaling: [
      {
        name: 'cpu',
        metric: 'ECSServiceAverageCPUUtilization',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 50,
        adjustmentType: 'ChangeInCapacity',
        stepAdjustments,
      },
    ],
  });

  it('takes target tracking, step scaling and scheduled actions on CPU and memory', () => {
    expect(
      validator.validate(
        withScaling({
          targetTracking: [{ predefinedMetric: 'ECSServiceAverageMemoryUtilization', targetValue: 70 }],
          ...stepPolicy([
            { metricIntervalLowerBound: 0, metricIntervalUpperBound: 20, scalingAdjustment: 1 },
            { metricIntervalLowerBound: 20, scalingAdjustment: 2 },
          ]),
          scheduledActions: [{ name: 'nightly', schedule: 'cron(0 22 ? * * *)', timezone: 'Europe/Paris', maxCapacity: 2 }],
        }),
      ),
    ).toEqual([]);
  });

  it('refuses steps with a gap, an overlap, or a bound that leaves the metric uncovered, naming the list', () => {
    const errors = (steps: Record<string, unknown>[]) => validator.validate(withScaling(stepPolicy(steps)));
    expect(
      errors([
        { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
        { metricIntervalLowerBound: 20, scalingAdjustment: 2 },
      ]),
    ).toEqual([
      expect.stringMatching(
        /^spec\.autoScaling\.stepScaling\[0\]\.stepAdjustments: Invalid value: .*: the steps leave a gap between 10 and 20 past the threshold$/,
      ),
    ]);
    expect(
      errors([
        { metricIntervalLowerBound: 0, metricIntervalUpperBound: 30, scalingAdjustment: 1 },
        { metricIntervalLowerBound: 20, scalingAdjustment: 2 },
      ]),
    ).toEqual([expect.stringMatching(/the steps overlap between 20 and 30 past the threshold$/)]);
    expect(errors([{ metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 }])).toEqual([
      expect.stringMatching(/a step with a positive metricIntervalUpperBound \(10\) needs a step above it without metricIntervalUpperBound$/),
    ]);
    expect(errors([{ scalingAdjustment: 1 }])).toEqual([expect.stringMatching(/a step needs metricIntervalLowerBound or metricIntervalUpperBound/)]);
    expect(
      validator.validate(
        withScaling({
          stepScaling: [
            {
              ...stepPolicy([{ metricIntervalLowerBound: 0, scalingAdjustment: 1 }]).stepScaling[0],
              minAdjustmentMagnitude: 2,
            },
          ],
        }),
      ),
    ).toEqual([
      'spec.autoScaling.stepScaling[0].minAdjustmentMagnitude: Invalid value: "object": minAdjustmentMagnitude applies to PercentChangeInCapacity only',
    ]);
  });

  it('refuses a schedule AWS would refuse, and an unknown time zone, each on its own field', () => {
    expect(validator.validate(withScaling({ scheduledActions: [{ name: 'x', schedule: 'cron(0 10 * * * *)', minCapacity: 2 }] }))).toEqual([
      expect.stringMatching(
        /^spec\.autoScaling\.scheduledActions\[0\]\.schedule: Invalid value: "cron\(0 10 \* \* \* \*\)": cron\(0 10 \* \* \* \*\): needs \? in day-of-month or day-of-week$/,
      ),
    ]);
    expect(validator.validate(withScaling({ scheduledActions: [{ name: 'x', schedule: 'rate(5 minutes)', timezone: 'Mars/Base', minCapacity: 2 }] }))).toEqual([
      'spec.autoScaling.scheduledActions[0].timezone: Invalid value: "Mars/Base": unknown time zone Mars/Base',
    ]);
  });

  it('takes ALBRequestCountPerTarget with the external metric it reads, and refuses it without one', () => {
    const requestCount = { predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 1000 };
    const metric = { name: 'nginx_requests_per_minute', selector: { matchLabels: { service: 'web' } } };
    expect(validator.validate(withScaling({ targetTracking: [requestCount], requestCountMetric: metric }))).toEqual([]);
    expect(validator.validate(withScaling({ targetTracking: [requestCount] }))).toEqual([
      "spec.autoScaling.requestCountMetric: Required value: ALBRequestCountPerTarget needs requestCountMetric: the external metric that counts the service's requests (Berth has no load balancer of its own)",
    ]);
    const stepOnRequests = { ...stepPolicy([{ metricIntervalLowerBound: 0, scalingAdjustment: 1 }]).stepScaling[0], metric: 'ALBRequestCountPerTarget' };
    expect(validator.validate(withScaling({ stepScaling: [stepOnRequests], requestCountMetric: metric }))).toEqual([]);
    expect(validator.validate(withScaling({ stepScaling: [stepOnRequests] }))).toEqual([
      expect.stringMatching(/^spec\.autoScaling\.requestCountMetric: Required value: ALBRequestCountPerTarget needs requestCountMetric/),
    ]);
  });

  it('refuses a requestCountMetric no policy reads, a per-task statistic of it, and a metric name that is no path segment', () => {
    const metric = { name: 'nginx_requests_per_minute' };
    expect(
      validator.validate(
        withScaling({ targetTracking: [{ predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 }], requestCountMetric: metric }),
      ),
    ).toEqual([
      'spec.autoScaling.requestCountMetric: Invalid value: "object": requestCountMetric is read only for ALBRequestCountPerTarget: no targetTracking or stepScaling policy here scales on it',
    ]);
    const stepOnRequests = {
      ...stepPolicy([{ metricIntervalLowerBound: 0, scalingAdjustment: 1 }]).stepScaling[0],
      metric: 'ALBRequestCountPerTarget',
      metricAggregationType: 'Maximum',
    };
    expect(validator.validate(withScaling({ stepScaling: [stepOnRequests], requestCountMetric: metric }))).toEqual([
      'spec.autoScaling.stepScaling[0].metricAggregationType: Invalid value: "object": ALBRequestCountPerTarget is the service\'s requests over its RUNNING tasks, one value per period: metricAggregationType must be Average',
    ]);
    expect(
      validator.validate(
        withScaling({ targetTracking: [{ predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 10 }], requestCountMetric: { name: 'a/../b' } }),
      ),
    ).toEqual([
      `spec.autoScaling.requestCountMetric.name: Invalid value: "a/../b": spec.autoScaling.requestCountMetric.name in body should match '^[^/%?#]+$'`,
    ]);
  });

  it('refuses a target of 0', () => {
    expect(validator.validate(withScaling({ targetTracking: [{ predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 0 }] }))).toEqual([
      expect.stringMatching(/targetTracking\[0\]\.targetValue: Invalid value: .*must be above 0/),
    ]);
  });
});
