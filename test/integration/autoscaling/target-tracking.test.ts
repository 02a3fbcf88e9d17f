// Service auto scaling on the real kube-apiserver and the real Docker engine: the agents read each task's
// CPU from the engine (docker stats), report it in the task's status every metrics period (2 s here, a
// minute in ECS), and the auto scaler takes a datapoint per period and changes desiredCount.
//
// The load is switched from the test: every task of the service runs a shell that, while /ctl/burn exists
// on a host directory all tasks mount, keeps `yes` busy 0.2 s of every second (about 20 % of a core, 205 of
// the 1024 CPU units each task reserves: 20 % utilization), and otherwise sleeps (≈ 0 %).
//   CPU target tracking at 5 %, min 1, max 3: burning, AlarmHigh (> 5 % for 3 datapoints, 6 s) asks for
//   ceil(1 × 20 / 5) = 4 tasks, clamped to maxCapacity 3; stopped, AlarmLow (< 4.5 % for 15 datapoints, 30 s)
//   asks for ceil(3 × ~0 / 5) = 0, clamped to minCapacity 1. The ratio of 4 between load and target holds
//   even when a busy machine gives `yes` half the time it asks for.
// Bounded: about 1.5 minutes (a rollout of 3 tasks of busybox, 6 s up, 30 s down, and the task starts).
import { kubectlOk } from '../../env/env';
import { describedEvents } from '../../support/kubectl-describe';
import { clusterYaml, eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { burnerTaskDefinition, LoadSwitch, serviceEvents, serviceNamed, untilService } from './load';

const periodMs = 2000;
let h: Harness;
let load: LoadSwitch;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: burner
spec:
  cluster: demo
  taskDefinition: burner
  desiredCount: 1
  autoScaling:
    minCapacity: 1
    maxCapacity: 3
    targetTracking:
      - predefinedMetric: ECSServiceAverageCPUUtilization
        targetValue: 5
        scaleOutCooldown: 10
        scaleInCooldown: 10
`;

const serviceNow = () => serviceNamed(h, 'burner');

beforeAll(async () => {
  load = new LoadSwitch();
  h = await startHarness({ prefix: 'autoscaling-tt', metricsPeriodMs: periodMs });
  await h.apply(clusterYaml('demo', 1, { cpu: 4096, memory: 4096 }));
  await waitForInstances(h, 1);
  await h.apply(burnerTaskDefinition('burner', load));
  await h.apply(service);
  await untilService(h, 'burner', (service) => service.status?.runningCount === 1, 'the service to run its 1 task');
});

afterAll(async () => {
  await h?.stop();
  load?.remove();
});

test('idle: each RUNNING task reports its usage, the alarms are OK, desiredCount stays at 1', async () => {
  const reported = await eventually(
    async () => {
      const tasks = (await h.get<{ items: { status?: { usage?: { cpuUnits: number; windowSeconds: number } } }[] }>('tasks'))?.items ?? [];
      return tasks.find((t) => t.status?.usage)?.status?.usage;
    },
    'a task usage report',
    30_000,
  );
  expect(reported.cpuUnits).toBeLessThan(0.045 * 1024); // under AlarmLow's threshold: idle
  expect(reported.windowSeconds).toBeGreaterThan(0);
  const { status } = await untilService(
    h,
    'burner',
    (s) => s.status?.autoScaling?.alarms?.some((a) => a.state !== 'INSUFFICIENT_DATA') ?? false,
    'a datapoint',
    30_000,
  );
  expect(status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetrics' });
  expect((await serviceNow()).spec.desiredCount).toBe(1);
});

test('burning CPU scales out to maxCapacity (ceil(1 × ~20 / 5) = 4, clamped to 3), with the metric in status and an Event', async () => {
  load.on();
  await untilService(h, 'burner', (service) => service.spec.desiredCount === 3, 'desiredCount 3');
  const scaled = (await serviceNow()).status!.autoScaling!;
  // One step when the machine gives `yes` its 20 %; two (1 → 2 → 3) when it is too busy to.
  expect(scaled.lastScaleOut?.to).toBe(3);
  const causes = await serviceEvents(h, 'burner', 'ScaledOut');
  expect(causes.length).toBeGreaterThanOrEqual(1);
  for (const cause of causes) {
    expect(cause).toMatch(
      /^desiredCount [12] → [23]: TargetTracking-ECSServiceAverageCPUUtilization-AlarmHigh: ECSServiceAverageCPUUtilization [\d.]+ above target 5 for 3 datapoints \([12] running tasks\)$/,
    );
    expect(Number(/CPUUtilization ([\d.]+) above/.exec(cause)![1])).toBeGreaterThan(5);
  }
  await untilService(h, 'burner', (service) => service.status?.runningCount === 3, 'runningCount 3');
  // kubectl get -o wide: the bounds in force, why scaling can act, and when it last did.
  const wide = await kubectlOk(['get', 'bsvc', 'burner', '-n', h.namespace, '-o', 'wide']);
  expect(wide).toMatch(/\bMIN\s+MAX\s+SCALING\s+LAST SCALED\s*\n/);
  expect(wide).toMatch(/\bburner\s+demo\s+burner:1\s+3\s+3\s+0\s+COMPLETED\s+\S+\s+1\s+3\s+ValidMetrics\s+\S+\s*$/m);
});

test('the load stops: after 15 low datapoints, back to minCapacity 1, never below it', async () => {
  load.off();
  await untilService(h, 'burner', (service) => service.spec.desiredCount === 1, 'desiredCount 1', 90_000);
  const status = (await serviceNow()).status!.autoScaling!;
  expect(status.lastScaleIn).toMatchObject({ from: 3, to: 1 });
  expect(status.lastScaleIn!.cause).toMatch(/AlarmLow: ECSServiceAverageCPUUtilization [\d.]+ below 4.5 \(90 % of target 5\) for 15 datapoints/);
  expect(await serviceEvents(h, 'burner', 'ScaledIn')).toHaveLength(1);
  // kubectl describe bsvc burner: each decision with the metric value behind it.
  const described = await describedEvents('bsvc', 'burner', h.namespace);
  expect(described.find((e) => e.reason === 'ScaledOut')?.message).toMatch(
    /^desiredCount 1 → [23]: TargetTracking-ECSServiceAverageCPUUtilization-AlarmHigh: ECSServiceAverageCPUUtilization [\d.]+ above target 5/,
  );
  expect(described.find((e) => e.reason === 'ScaledIn')?.message).toMatch(/^desiredCount 3 → 1: .*AlarmLow: ECSServiceAverageCPUUtilization [\d.]+ below 4.5/);
  await untilService(h, 'burner', (service) => service.status?.runningCount === 1, 'runningCount 1');
});
