// Service auto scaling of tasks that run as Pods on the real test node (a kubelet on containerd): the Pod data
// plane reads each task's usage from the resource metrics API (metrics.k8s.io PodMetrics, served by the test
// environment's metrics-server, which scrapes the kubelet every 10 s), reports it in the task's status every
// metrics period when the pipeline has measured again, and the auto scaler changes desiredCount. The period is
// 10 s here, not the Docker suite's 2 s: a datapoint counts while its report is at most three periods old, and a
// PodMetrics sample is up to a resolution (10 s) plus a scrape old when it is read, so a period shorter than
// metrics-server's resolution would find every sample stale.
//
// The load is switched from the test (load.ts): while /ctl/burn exists on a host directory all tasks mount (a
// hostPath), each task keeps `yes` busy 0.2 s of every second, about 20 % of a core: 205 of the 256 CPU units
// it reserves, 80 % utilization; idle it sleeps (≈ 0 %). 256 units (a 250m request) so that three fit on a
// two-core node beside other suites' Pods.
//   CPU target tracking at 10 %, min 1, max 3: burning, AlarmHigh (> 10 % for 3 datapoints, 30 s) asks for ceil(1 × 80 / 10) = 8 tasks, clamped to maxCapacity 3. The ratio
//   of 8 between load and target holds even when a busy machine gives `yes` a fraction of what it asks for.
// Bounded: about 1.5 minutes (the first PodMetrics of a new Pod take two kubelet samples, then 3 datapoints,
// then two Pods start).
import type { ContainerInstance, Task } from '../../../src/api';
import { kubectlOk, testNode } from '../../env/env';
import { eventually, startHarness, type Harness } from '../../support/berth-harness';
import { burnerTaskDefinition, LoadSwitch, serviceEvents, serviceNamed, untilService } from './load';

const periodMs = 10_000;
let h: Harness;
let load: LoadSwitch;
jest.setTimeout(240_000);
const node = testNode();

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: nodes
spec:
  nodeGroups:
    - name: real
      type: selfManaged
      nodes:
        selector:
          matchLabels: { kubernetes.io/hostname: ${node.name} }
        allowHostPaths: true # the load switch is a host directory
`;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: burner
spec:
  cluster: nodes
  taskDefinition: burner
  desiredCount: 1
  autoScaling:
    minCapacity: 1
    maxCapacity: 3
    targetTracking:
      - predefinedMetric: ECSServiceAverageCPUUtilization
        targetValue: 10
        scaleOutCooldown: 10
        scaleInCooldown: 300
`;

const serviceNow = () => serviceNamed(h, 'burner');
const tasks = async () => (await h.get<{ items: Task[] }>('tasks'))?.items ?? [];

/** `kubectl top pod NAME --containers`: the container's CPU in millicores and memory in MiB, once metrics-server has the Pod. */
async function top(pod: string): Promise<{ container: string; millicores: number; mebibytes: number }> {
  const out = await kubectlOk(['top', 'pod', pod, '-n', h.namespace, '--containers', '--no-headers']);
  const [, container, cpu, memory] = out.trim().split(/\s+/);
  return { container, millicores: Number(cpu.replace(/m$/, '')), mebibytes: Number(memory.replace(/Mi$/, '')) };
}

beforeAll(async () => {
  load = new LoadSwitch();
  h = await startHarness({ prefix: 'autoscaling-pods', nodes: true, metricsPeriodMs: periodMs });
  await h.apply(cluster);
  await eventually(
    async () => (await h.get<ContainerInstance>(`containerinstance/nodes-${node.name}`))?.status?.agentConnected,
    'the Node mirrored as a connected instance',
  );
  await h.apply(burnerTaskDefinition('burner', load, 256));
  await h.apply(service);
  await untilService(h, 'burner', (s) => s.status?.runningCount === 1, 'the service to run its 1 task as a Pod', 90_000);
});

afterAll(async () => {
  await h?.stop();
  load?.remove();
});

test('idle: the Pod task reports its usage from metrics.k8s.io (as kubectl top pod shows it), the alarms are OK', async () => {
  const [task] = await tasks();
  const pods = await h.get<{ items: { metadata: { name: string } }[] }>('pods');
  expect(pods?.items.map((p) => p.metadata.name)).toEqual([task.metadata.name]);
  const reported = await eventually(async () => (await h.get<Task>(`task/${task.metadata.name}`))?.status?.usage, 'a usage report from the PodMetrics', 60_000);
  // A rate over metrics-server's window (the kubelet's two latest samples), not over the 2 s period.
  expect(reported.windowSeconds).toBeGreaterThan(2);
  expect(reported.cpuUnits).toBeLessThan(0.09 * 256); // under AlarmLow's threshold (90 % of target 10): idle
  expect(reported.memoryMiB).toBeGreaterThan(0);
  const shown = await top(task.metadata.name);
  expect(shown.container).toBe('burner');
  expect(shown.mebibytes).toBeGreaterThanOrEqual(0);
  const { status } = await untilService(
    h,
    'burner',
    (s) => s.status?.autoScaling?.alarms?.some((a) => a.state !== 'INSUFFICIENT_DATA') ?? false,
    'a datapoint',
    60_000,
  );
  expect(status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetrics' });
  expect((await serviceNow()).spec.desiredCount).toBe(1);
});

test('burning CPU scales the Pods out to maxCapacity (ceil(1 × ~80 / 10) = 8, clamped to 3), and kubectl top pod shows the burn', async () => {
  load.on();
  const [task] = await tasks();
  await untilService(h, 'burner', (s) => s.spec.desiredCount === 3, 'desiredCount 3', 120_000);
  const scaled = (await serviceNow()).status!.autoScaling!;
  expect(scaled.lastScaleOut?.to).toBe(3);
  const causes = await serviceEvents(h, 'burner', 'ScaledOut');
  expect(causes.length).toBeGreaterThanOrEqual(1);
  for (const cause of causes) {
    expect(cause).toMatch(
      /^desiredCount [12] → [23]: TargetTracking-ECSServiceAverageCPUUtilization-AlarmHigh: ECSServiceAverageCPUUtilization [\d.]+ above target 10/,
    );
  }
  // What the task reported is what metrics-server serves: kubectl top pod sees the same burn.
  const usage = (await h.get<Task>(`task/${task.metadata.name}`))!.status!.usage!;
  expect(usage.cpuUnits).toBeGreaterThan(0.1 * 256);
  expect((await top(task.metadata.name)).millicores).toBeGreaterThan(25);
  await untilService(h, 'burner', (s) => s.status?.runningCount === 3, 'runningCount 3 (Pods on the node)', 90_000);
  const pods = await h.get<{ items: { spec: { nodeName: string } }[] }>('pods');
  expect(pods?.items.filter((p) => p.spec.nodeName === node.name)).toHaveLength(3);
});
