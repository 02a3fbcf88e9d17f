import { services, validatorFor, type Service } from '../../api';
import { FakeClock, settle } from '../../runtime/clock';
import { silentLogger } from '../../runtime/logger';
import { Manager } from '../../runtime/manager';
import { events, horizontalPodAutoscalers } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { addAutoScalingController } from './controller';
import type { ExternalMetrics } from './request-count';

// The auto scaler on the embedded store with an injected clock: a scheduled action runs at its time, to the
// minute, hours of waiting driven in milliseconds; an HPA takes the service over and gives it back; a
// removed autoScaling takes its status with it.
const ns = 'default';
let store: MemoryStore;
let clock: FakeClock;
let manager: Manager;
let running: Promise<void>;
/** The external metrics API's series of requests_per_minute {service=web}: none until a test sets a value. */
let requestsPerMinute: string | undefined;
const externalMetrics: ExternalMetrics = {
  list: (namespace, metric, selector) =>
    Promise.resolve(
      namespace === ns && metric === 'requests_per_minute' && selector === 'service=web' && requestsPerMinute !== undefined
        ? [{ metricName: metric, timestamp: new Date(clock.now()).toISOString(), value: requestsPerMinute }]
        : [],
    ),
};

beforeEach(() => {
  store = new MemoryStore({ validatorFor });
  clock = new FakeClock(Date.parse('2026-03-02T08:00:00Z'));
  requestsPerMinute = undefined;
  manager = new Manager({ store, clock, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
  addAutoScalingController(manager, { namespace: ns, periodMs: 60_000, externalMetrics });
  running = manager.start();
});

afterEach(async () => {
  await manager.stop();
  await running;
});

const serviceNow = async () => (await store.get<Service>(services, ns, 'web'))!;
const eventReasons = async () => (await store.list<KubeObject & { reason: string }>(events, ns)).items.map((e) => e.reason);

async function until<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await settle();
  }
  throw new Error(`never: ${what}`);
}

function service(autoScaling: Record<string, unknown> | undefined, desiredCount = 2): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { cluster: 'demo', taskDefinition: 'web', desiredCount, ...(autoScaling && { autoScaling }) },
  } as KubeObject;
}

const businessHours = {
  minCapacity: 1,
  maxCapacity: 10,
  scheduledActions: [{ name: 'morning', schedule: 'cron(0 10 ? * MON-FRI *)', timezone: 'Europe/Paris', minCapacity: 5, maxCapacity: 8 }],
};

test('a scheduled action changes desiredCount at its time, not a minute before', async () => {
  await store.create(services, service(businessHours));
  const seen = await until(async () => (await serviceNow()).status?.autoScaling?.scheduledActions?.[0], 'the action seen');
  // 10:00 in Paris is 09:00 UTC in March (CET).
  expect(seen.nextRunAt).toBe('2026-03-02T09:00:00Z');
  await clock.advance(59 * 60_000);
  await settle();
  expect((await serviceNow()).spec.desiredCount).toBe(2);
  await clock.advance(60_000);
  const scaled = await until(async () => ((await serviceNow()).spec.desiredCount === 5 ? serviceNow() : undefined), 'desiredCount 5');
  expect(scaled.status?.autoScaling).toMatchObject({ minCapacity: 5, maxCapacity: 8, lastScalingActivity: { from: 2, to: 5 } });
  expect(scaled.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ScheduledActionsOnly' });
  expect(await eventReasons()).toContain('ScheduledActionRan');
});

test('an HPA on the Service: Berth changes nothing and says why; the HPA gone, Berth applies its bounds', async () => {
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web-hpa', namespace: ns },
    spec: { scaleTargetRef: { apiVersion: 'berth.dev/v1alpha1', kind: 'Service', name: 'web' }, minReplicas: 1, maxReplicas: 20 },
  } as KubeObject;
  await store.create(horizontalPodAutoscalers, hpa);
  await store.create(services, service({ minCapacity: 1, maxCapacity: 3 }, 12));
  const aside = await until(async () => ((await serviceNow()).status?.autoScaling?.horizontalPodAutoscaler ? serviceNow() : undefined), 'the HPA recorded');
  expect(aside.spec.desiredCount).toBe(12);
  expect(aside.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScaledByHorizontalPodAutoscaler' });
  await store.delete(horizontalPodAutoscalers, ns, 'web-hpa');
  const back = await until(async () => ((await serviceNow()).spec.desiredCount === 3 ? serviceNow() : undefined), 'desiredCount 3');
  expect(back.status?.autoScaling?.horizontalPodAutoscaler).toBeUndefined();
  // Bounds and nothing else: no policy or action to speak of.
  expect(back.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'BoundsOnly' });
});

test('a desiredCount decided but never written (the patch after the status write lost) is written again', async () => {
  await store.create(services, service(undefined, 4));
  const current = await serviceNow();
  // As a reconcile that wrote its decision to status and then lost its spec patch leaves the service.
  await store.updateStatus(services, {
    ...current,
    status: {
      autoScaling: {
        minCapacity: 1,
        maxCapacity: 10,
        declaredMinCapacity: 1,
        declaredMaxCapacity: 10,
        lastScalingActivity: { time: '2026-03-02T08:00:00Z', from: 4, to: 7, cause: 'test', observedGeneration: current.metadata.generation! + 1 },
      },
    },
  });
  const withStatus = await serviceNow();
  await store.update(services, { ...withStatus, spec: { ...withStatus.spec, autoScaling: { minCapacity: 1, maxCapacity: 10 } } });
  await until(async () => (await serviceNow()).spec.desiredCount === 7, 'desiredCount 7');
});

test('autoScaling removed: its status and condition go', async () => {
  await store.create(services, service(businessHours));
  await until(async () => (await serviceNow()).status?.autoScaling, 'auto scaling status');
  const current = await serviceNow();
  const { autoScaling: _removed, ...spec } = current.spec;
  await store.update(services, { ...current, spec });
  const cleared = await until(async () => {
    const s = await serviceNow();
    return !s.status?.autoScaling && s;
  }, 'status cleared');
  expect(cleared.status?.conditions?.some((c) => c.type === 'ScalingActive')).toBe(false);
});

test('a policy without any reported usage: NoMetricData, naming what Pod tasks need (the metrics.k8s.io API)', async () => {
  await store.create(
    services,
    service({ minCapacity: 1, maxCapacity: 3, targetTracking: [{ predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 }] }, 1),
  );
  const condition = await until(async () => (await serviceNow()).status?.conditions?.find((c) => c.type === 'ScalingActive'), 'ScalingActive');
  expect(condition).toMatchObject({ status: 'False', reason: 'NoMetricData' });
  expect(condition.message).toMatch(/tasks that run as Pods, no resource metrics API: metrics\.k8s\.io, served by metrics-server/);
});

test('ALBRequestCountPerTarget: no series is NoMetricData naming the metric; requests then scale a service at 0 out', async () => {
  await store.create(
    services,
    service(
      {
        minCapacity: 0,
        maxCapacity: 10,
        requestCountMetric: { name: 'requests_per_minute', selector: { matchLabels: { service: 'web' } } },
        targetTracking: [{ predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 100, scaleOutCooldown: 0 }],
      },
      0,
    ),
  );
  const condition = await until(async () => (await serviceNow()).status?.conditions?.find((c) => c.type === 'ScalingActive'), 'ScalingActive');
  expect(condition).toMatchObject({
    status: 'False',
    reason: 'NoMetricData',
    message: 'external metric requests_per_minute {service=web}: the external metrics API has no series of it for this selector',
  });
  // 250 requests a minute and no task: one target's, 250 / 100 → 3 tasks after the three datapoints of AlarmHigh.
  requestsPerMinute = '250';
  for (let minute = 0; minute < 3; minute++) {
    await clock.advance(60_000);
    await settle();
  }
  const scaled = await until(async () => ((await serviceNow()).spec.desiredCount === 3 ? serviceNow() : undefined), 'desiredCount 3');
  expect(scaled.status?.autoScaling?.lastScalingActivity?.cause).toBe(
    'TargetTracking-ALBRequestCountPerTarget-AlarmHigh: ALBRequestCountPerTarget 250 above target 100 for 3 datapoints (0 running tasks)',
  );
  expect(scaled.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetrics' });
});
