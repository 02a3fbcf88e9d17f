// Step scaling on the real kube-apiserver and the real Docker engine: two policies on the service's average
// CPU, each with its own alarm (one datapoint every periodSeconds, 10 s here), acting by the step the
// datapoint falls in. The load is switched as in target-tracking.test.ts: while /ctl/burn exists every task
// keeps `yes` busy 0.2 s a second (≈ 20 % of the 1024 units it reserves), else it sleeps (≈ 0 %).
//   cpu-high: ≥ 5 % for 1 datapoint; steps [0, 10) → +1 (5–15 %) and [10, ∞) → +2 (15 % and up);
//   cpu-low:  < 2 % for 2 datapoints; step (−∞, 0] → −1.
// Burning, 1 task at ~20 % falls in [10, ∞): +2 → 3 (maxCapacity), or +1 first when a busy machine gives
// `yes` under 15 %; stopped, −1 per alarm evaluation after two low datapoints, 3 → 2 → 1, never below 1.
// Bounded: about 1.5 minutes.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Service } from '../../../src/api';
import { testEnv } from '../../env/env';
import { clusterYaml, eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';

const image = testEnv().testImage;
let h: Harness;
let control: string;

const manifests = (controlDir: string) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: stepper
spec:
  networkMode: bridge
  cpu: 1024
  memory: 128
  volumes:
    - name: ctl
      host: { sourcePath: ${controlDir} }
  containerDefinitions:
    - name: stepper
      image: ${image}
      command:
        - sh
        - -c
        - 'trap "exit 0" TERM; while true; do if [ -f /ctl/burn ]; then yes > /dev/null & p=$!; sleep 0.2; kill $p; sleep 0.8; else sleep 1; fi; done'
      mountPoints:
        - sourceVolume: ctl
          containerPath: /ctl
          readOnly: true
---
apiVersion: berth.dev/v1alpha1
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

interface EventList {
  items: { reason: string; message: string }[];
}

const serviceNow = async () => (await h.get<Service>('bsvc/stepper'))!;
const scalingEvents = async (reason: string) =>
  ((await h.get<EventList>('events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=stepper'))?.items ?? [])
    .filter((e) => e.reason === reason)
    .map((e) => e.message);

beforeAll(async () => {
  control = mkdtempSync(path.join(tmpdir(), 'berth-step-'));
  chmodSync(control, 0o755);
  h = await startHarness({ prefix: 'autoscaling-step', metricsPeriodMs: 2000 });
  await h.apply(clusterYaml('demo', 1, { cpu: 4096, memory: 4096 }));
  await waitForInstances(h, 1);
  await h.apply(manifests(control));
  await eventually(
    async () => (await serviceNow()).status?.runningCount === 1,
    'the service to run its task',
    60_000,
    250,
    () => h.describe(),
  );
});

afterAll(async () => {
  await h?.stop();
  if (control) rmSync(control, { recursive: true, force: true });
});

test('burning: cpu-high steps out by the step its datapoint falls in, up to maxCapacity 3', async () => {
  writeFileSync(path.join(control, 'burn'), '');
  await eventually(
    async () => (await serviceNow()).spec.desiredCount === 3,
    'desiredCount 3',
    60_000,
    250,
    () => h.describe(),
  );
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
  await eventually(
    async () => (await serviceNow()).status?.runningCount === 3,
    'runningCount 3',
    60_000,
    250,
    () => h.describe(),
  );
  rmSync(path.join(control, 'burn'));
  await eventually(
    async () => (await serviceNow()).spec.desiredCount === 1,
    'desiredCount 1',
    90_000,
    250,
    () => h.describe(),
  );
  const steps = await scalingEvents('ScaledIn');
  // Events list in name order, not time order.
  expect(steps.map((m) => /^desiredCount (\d) → (\d)/.exec(m)?.slice(1).join('→')).sort()).toEqual(['2→1', '3→2']);
  for (const message of steps)
    expect(message).toMatch(/step scaling cpu-low: ECSServiceAverageCPUUtilization [\d.]+ < 2 for 2 datapoints: ChangeInCapacity -1$/);
});
