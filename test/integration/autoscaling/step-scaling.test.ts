// Step scaling on the real kube-apiserver and the real Docker engine: two policies on the service's average
// CPU, each with its own alarm (one datapoint every periodSeconds, 10 s here), acting by the step the
// datapoint falls in. The load is switched as in target-tracking.test.ts: while /ctl/burn exists every task
// keeps `yes` busy 0.2 s a second (≈ 20 % of the 1024 units it reserves), else it sleeps (≈ 0 %).
//   cpu-high: ≥ 5 % for 1 datapoint; steps [0, 10) → +1 (5–15 %) and [10, ∞) → +2 (15 % and up);
//   cpu-low:  < 2 % for 2 datapoints; step (−∞, 0] → −1.
// Burning, 1 task at ~20 % falls in [10, ∞): +2 → 3 (maxCapacity), or +1 first when a busy machine gives
// `yes` under 15 %; stopped, −1 per alarm evaluation after two low datapoints, 3 → 2 → 1, never below 1.
// Bounded: about 1.5 minutes.
import { clusterYaml, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { burnerTaskDefinition, LoadSwitch, serviceEvents, serviceNamed, untilService } from './load';

let h: Harness;
let load: LoadSwitch;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: stepper
spec:
  cluster: demo
  taskDefinition: stepper
  desiredCount: 1
  autoScaling:
    minCapacity: 1
    maxCapacity: 3
    stepScaling:
      - name: cpu-high
        metric: ECSServiceAverageCPUUtilization
        comparisonOperator: GreaterThanOrEqualToThreshold
        threshold: 5
        evaluationPeriods: 1
        periodSeconds: 10
        adjustmentType: ChangeInCapacity
        stepAdjustments:
          - { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 }
          - { metricIntervalLowerBound: 10, scalingAdjustment: 2 }
        cooldown: 0
      - name: cpu-low
        metric: ECSServiceAverageCPUUtilization
        comparisonOperator: LessThanThreshold
        threshold: 2
        evaluationPeriods: 2
        periodSeconds: 10
        adjustmentType: ChangeInCapacity
        stepAdjustments:
          - { metricIntervalUpperBound: 0, scalingAdjustment: -1 }
        cooldown: 0
`;

const serviceNow = () => serviceNamed(h, 'stepper');
const scalingEvents = (reason: string) => serviceEvents(h, 'stepper', reason);

beforeAll(async () => {
  load = new LoadSwitch();
  h = await startHarness({ prefix: 'autoscaling-step', metricsPeriodMs: 2000 });
  await h.apply(clusterYaml('demo', 1, { cpu: 4096, memory: 4096 }));
  await waitForInstances(h, 1);
  await h.apply(burnerTaskDefinition('stepper', load));
  await h.apply(service);
  await untilService(h, 'stepper', (service) => service.status?.runningCount === 1, 'the service to run its task');
});

afterAll(async () => {
  await h?.stop();
  load?.remove();
});

test('burning: cpu-high steps out by the step its datapoint falls in, up to maxCapacity 3', async () => {
  load.on();
  await untilService(h, 'stepper', (service) => service.spec.desiredCount === 3, 'desiredCount 3');
  const steps = await scalingEvents('ScaledOut');
  expect(steps.length).toBeGreaterThanOrEqual(1);
  for (const message of steps) {
    const [, value, adjustment] = /ECSServiceAverageCPUUtilization ([\d.]+) >= 5 for 1 datapoints: ChangeInCapacity (\d)$/.exec(message) ?? [];
    expect({ message, matched: value !== undefined }).toEqual({ message, matched: true });
    // The step follows the datapoint: 5 ≤ m < 15 → +1, m ≥ 15 → +2.
    expect(Number(adjustment)).toBe(Number(value) >= 15 ? 2 : 1);
  }
  expect((await serviceNow()).status?.autoScaling?.alarms?.find((a) => a.name === 'cpu-high')).toMatchObject({ state: 'ALARM' });
});

test('stopped: cpu-low removes one task per evaluation after two low datapoints, down to minCapacity 1', async () => {
  await untilService(h, 'stepper', (service) => service.status?.runningCount === 3, 'runningCount 3');
  load.off();
  await untilService(h, 'stepper', (service) => service.spec.desiredCount === 1, 'desiredCount 1', 90_000);
  const steps = await scalingEvents('ScaledIn');
  // Events list in name order, not time order.
  expect(steps.map((m) => /^desiredCount (\d) → (\d)/.exec(m)?.slice(1).join('→')).sort()).toEqual(['2→1', '3→2']);
  for (const message of steps)
    expect(message).toMatch(/step scaling cpu-low: ECSServiceAverageCPUUtilization [\d.]+ < 2 for 2 datapoints: ChangeInCapacity -1$/);
});
