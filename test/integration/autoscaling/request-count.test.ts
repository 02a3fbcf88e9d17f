// Target tracking on ALBRequestCountPerTarget where a metric source is configured, end to end on real
// components: requests go through a counting load balancer in the test (counting-balancer.ts) to the
// service's busybox httpd tasks on their dynamic host ports; the test environment's Prometheus scrapes the
// balancer's counter; prometheus-adapter serves it through the API server's aggregator as the external metric
// berth_test_requests_per_minute (sum(rate(berth_test_requests_total[10s])) × 60, test/env/prometheus-adapter.sh);
// the auto scaler reads it through external.metrics.k8s.io and divides it by the RUNNING tasks.
//   10 requests a second is 600 a minute; target 215 per target: AlarmHigh (> 215 for 3 datapoints, 6 s at a
//   2 s period) asks for ceil(600 / 215) = ceil(2.79) = 3 tasks, whatever runs (on the way up, while the 10 s
//   window fills, a step may ask for 2 first); with 3 RUNNING each target sees about 200, between AlarmLow's
//   193.5 (90 % of 215) and the target, so neither alarm fires and the service stays at 3 (undivided, 600 would
//   take it to maxCapacity 4). The margins: 4 tasks need 7.5 % more requests for three datapoints running, 2
//   need 28 % fewer. The load stopped: under 193.5 for 15 datapoints (30 s, by when the window holds none) →
//   0 → minCapacity 0. The load again with no task running: the requests count as one target's (the balancer
//   answers 503 and counts them, as an ALB does) → back to 3.
// Bounded: about 2.5 minutes and at most 3,000 requests, all on 127.0.0.1.
import type { Service, Task } from '../../../src/api';
import { addScrapeTarget, kubectlOk, testEnv, type ScrapeTarget } from '../../env/env';
import { clusterYaml, eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { CountingBalancer, SteadyLoad } from './counting-balancer';
import { serviceEvents, untilService } from './load';

const periodMs = 2000;
const metric = 'berth_test_requests_per_minute';
let h: Harness;
let balancer: CountingBalancer;
let load: SteadyLoad;
let scraped: ScrapeTarget | undefined;
let refreshing: NodeJS.Timeout | undefined;

const taskDefinition = () => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  networkMode: bridge
  containerDefinitions:
    - name: web
      image: ${testEnv().testImage}
      memory: 32
      cpu: 128
      command: [sh, -c, 'trap "exit 0" TERM; mkdir -p /www; echo "hello from $HOSTNAME" > /www/index.html; httpd -f -p 8080 -h /www & wait']
      portMappings:
        - containerPort: 8080 # no hostPort: the engine picks one
`;

const service = (name: string, selector: string) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: ${name === 'web' ? 1 : 0}
  autoScaling:
    minCapacity: 0
    maxCapacity: 4
    requestCountMetric:
      name: ${metric}
      selector:
        matchLabels: { service: ${selector} }
    targetTracking:
      - predefinedMetric: ALBRequestCountPerTarget
        targetValue: 215
        scaleOutCooldown: 4
        scaleInCooldown: 4
`;

/** The host ports of the service's RUNNING tasks: where the balancer sends requests. */
async function refreshTargets(): Promise<void> {
  const tasks = (await h.get<{ items: Task[] }>('tasks', '-l', 'berth.dev/service=web'))?.items ?? [];
  balancer.targets = tasks
    .filter((task) => task.status?.lastStatus === 'RUNNING')
    .flatMap((task) => task.status?.containers?.flatMap((c) => c.networkBindings ?? []) ?? [])
    .map((binding) => binding.hostPort)
    .filter((port): port is number => port !== undefined);
}

const highAlarm = (s: Service) => s.status?.autoScaling?.alarms?.find((a) => a.name === 'TargetTracking-ALBRequestCountPerTarget-AlarmHigh');

beforeAll(async () => {
  h = await startHarness({ prefix: 'autoscaling-rc', metricsPeriodMs: periodMs });
  balancer = new CountingBalancer(h.namespace);
  const port = await balancer.listen();
  load = new SteadyLoad(port, 10, 3000);
  // The environment's Prometheus scrapes it every second from now on.
  scraped = addScrapeTarget(h.namespace, `127.0.0.1:${port}`, { job: 'berth-test-balancer' });
  // Served once Prometheus has scraped the balancer and the adapter has listed its series (a 1 s relist).
  const raw = `/apis/external.metrics.k8s.io/v1beta1/namespaces/${h.namespace}/${metric}?labelSelector=${encodeURIComponent(`service=${h.namespace}`)}`;
  await eventually(async () => (JSON.parse(await kubectlOk(['get', '--raw', raw])) as { items: unknown[] }).items.length > 0, `${metric} served`, 60_000);
  await h.apply(clusterYaml('demo', 1, { cpu: 4096, memory: 4096 }));
  await waitForInstances(h, 1);
  await h.apply(taskDefinition());
  const tick = () => {
    // A failed read (the API server busy) keeps the last targets until the next one.
    refreshing = setTimeout(() => void refreshTargets().then(next, next), 1000);
  };
  const next = () => {
    if (refreshing !== undefined) tick();
  };
  tick();
});

afterAll(async () => {
  load?.close();
  if (refreshing) clearTimeout(refreshing);
  refreshing = undefined;
  scraped?.remove();
  await balancer?.close();
  await h?.stop();
});

test('a selector no series matches: NoMetricData, naming the metric and its selector, and nothing scales', async () => {
  await h.apply(service('quiet', `nobody-${h.namespace}`));
  const quiet = await untilService(h, 'quiet', (s) => s.status?.conditions?.some((c) => c.type === 'ScalingActive') ?? false, 'ScalingActive');
  expect(quiet.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({
    status: 'False',
    reason: 'NoMetricData',
    message: `external metric ${metric} {service=nobody-${h.namespace}}: the external metrics API has no series of it for this selector`,
  });
  expect(quiet.spec.desiredCount).toBe(0);
});

test('600 requests a minute scale out to ceil(600 / 215) = 3 tasks, each then about 200 per target: it stays at 3', async () => {
  await h.apply(service('web', h.namespace));
  await untilService(h, 'web', (s) => s.status?.runningCount === 1, 'the service to run its 1 task');
  load.start();
  await untilService(h, 'web', (s) => s.spec.desiredCount === 3 && s.status?.runningCount === 3, 'desiredCount 3, 3 running', 90_000);
  for (const cause of await serviceEvents(h, 'web', 'ScaledOut')) {
    const [, value, running] = /ALBRequestCountPerTarget ([\d.]+) above target 215 for 3 datapoints \((\d) running tasks\)$/.exec(cause)!;
    // The per-target value times the targets is the service's total: above the target, at most about 600 a minute.
    expect(Number(value) * Math.max(1, Number(running))).toBeGreaterThan(215);
    expect(Number(value) * Math.max(1, Number(running))).toBeLessThanOrEqual(645);
  }
  // Three datapoints taken with 3 RUNNING: divided by 3, each about 200, under the target.
  const threeRunningAt = Date.now();
  const divided = await untilService(
    h,
    'web',
    (s) => Date.parse(highAlarm(s)?.sampledAt ?? '') > threeRunningAt + 3 * periodMs,
    'datapoints with 3 running tasks',
    30_000,
  );
  expect(highAlarm(divided)).toMatchObject({ state: 'OK', breachingDatapoints: 0 });
  expect(highAlarm(divided)!.value).toBeGreaterThan(120);
  expect(highAlarm(divided)!.value).toBeLessThanOrEqual(215);
  expect(divided.spec.desiredCount).toBe(3);
  // Real requests reached each of the 3 tasks.
  await eventually(
    async () => balancer.targets.length === 3 && balancer.targets.every((port) => (balancer.answered.get(port) ?? 0) > 0),
    'each task answering',
  );
});

test('the requests stop: 15 datapoints under 90 % of the target take the service to 0 × 3 / 215 → minCapacity 0', async () => {
  load.stop();
  const idle = await untilService(h, 'web', (s) => s.spec.desiredCount === 0, 'desiredCount 0', 90_000);
  expect(idle.status?.autoScaling?.lastScaleIn).toMatchObject({ from: 3, to: 0 });
  expect(idle.status?.autoScaling?.lastScaleIn?.cause).toMatch(
    /^TargetTracking-ALBRequestCountPerTarget-AlarmLow: ALBRequestCountPerTarget 0 below 193.5 \(90 % of target 215\) for 15 datapoints \(3 running tasks\)$/,
  );
  await untilService(h, 'web', (s) => (s.status?.runningCount ?? 0) === 0, 'no task running');
});

test('requests again with no task running: they count as one target’s, and the service comes back', async () => {
  load.start();
  const back = await untilService(h, 'web', (s) => s.spec.desiredCount === 3 && s.status?.runningCount === 3, 'desiredCount 3 again', 90_000);
  expect(back.status?.autoScaling?.lastScaleOut?.to).toBe(3);
  const fromZero = (await serviceEvents(h, 'web', 'ScaledOut')).filter((message) => message.startsWith('desiredCount 0 → '));
  expect(fromZero).toEqual([
    expect.stringMatching(/^desiredCount 0 → [23]: .*ALBRequestCountPerTarget [\d.]+ above target 215 for 3 datapoints \(0 running tasks\)$/),
  ]);
  load.stop();
});
