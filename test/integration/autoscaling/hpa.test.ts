// A Berth Service is scalable by the Kubernetes HorizontalPodAutoscaler (kube-controller-manager's, started
// by the test environment with a 5 s sync) through its scale subresource: spec.desiredCount, status.runningCount
// and status.selector (the label selector of its tasks).
//
// One writer of desiredCount at a time: a Service with autoScaling of its own that an HPA targets is left to
// the HPA, and says so (ScalingActive False, ScaledByHorizontalPodAutoscaler). Berth takes it back when the
// HPA is deleted, as a new registration: desiredCount moves inside minCapacity..maxCapacity at once.
//
// The HPA here has minReplicas 3 and asks for CPU, which the test environment's metrics-server has for no Pod
// of these tasks (they run on Docker: the selector matches no Pod); an HPA raises a target below minReplicas
// before it reads any metric (horizontal.go: "Current number of replicas below Spec.MinReplicas"), which is
// what this relies on.
// Bounded: about 40 s.
import { kubectlOk, testEnv } from '../../env/env';
import { clusterYaml, eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { serviceNamed, untilService } from './load';

const image = testEnv().testImage;
let h: Harness;

const manifests = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  cpu: 256
  memory: 128
  containerDefinitions:
    - name: web
      image: ${image}
      command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
---
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: 1
  autoScaling:
    minCapacity: 1
    maxCapacity: 2
    targetTracking:
      - predefinedMetric: ECSServiceAverageCPUUtilization
        targetValue: 50
`;

const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: { apiVersion: berth.dev/v1alpha1, kind: Service, name: web }
  minReplicas: 3
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
`;

interface Hpa {
  status?: { currentReplicas?: number; desiredReplicas?: number; conditions?: { type: string; status: string; reason: string }[] };
}

const serviceNow = () => serviceNamed(h, 'web');

beforeAll(async () => {
  h = await startHarness({ prefix: 'autoscaling-hpa', metricsPeriodMs: 1000 });
  await h.apply(clusterYaml('demo', 1, { cpu: 4096, memory: 4096 }));
  await waitForInstances(h, 1);
  await h.apply(manifests);
  await untilService(h, 'web', (service) => service.status?.runningCount === 1, 'the service to run its task');
});

afterAll(async () => {
  await h?.stop();
});

test("the scale subresource carries the service's selector, which matches exactly its tasks", async () => {
  const scale = await h.get<{ spec: { replicas: number }; status: { replicas: number; selector: string } }>('bsvc/web', '--subresource=scale');
  expect(scale).toMatchObject({ spec: { replicas: 1 }, status: { replicas: 1 } });
  const selected = await h.get<{ items: { metadata: { labels: Record<string, string> } }[] }>('tasks', '-l', scale!.status.selector);
  expect(selected!.items.map((t) => t.metadata.labels['berth.dev/service'])).toEqual(['web']);
});

test('an HPA scales the Service to its minReplicas 3, past autoScaling.maxCapacity 2, and Berth steps aside and says so', async () => {
  await h.apply(hpa);
  await untilService(h, 'web', (service) => service.spec.desiredCount === 3, 'the HPA to set desiredCount 3');
  const stepped = await eventually(
    async () => {
      const service = await serviceNow();
      return service.status?.autoScaling?.horizontalPodAutoscaler === 'web' ? service : undefined;
    },
    'Berth to record the HPA',
    30_000,
  );
  expect(stepped.status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScaledByHorizontalPodAutoscaler' });
  // Three tasks start (seconds, many of Berth's 1 s periods): Berth never moved desiredCount back inside 1..2.
  await untilService(h, 'web', (service) => service.status?.runningCount === 3, 'runningCount 3');
  expect((await serviceNow()).spec.desiredCount).toBe(3);
  const autoscaler = await eventually(
    async () => {
      const current = await h.get<Hpa>('hpa/web');
      return current?.status?.currentReplicas === 3 ? current : undefined;
    },
    'the HPA to read 3 replicas through /scale',
    30_000,
  );
  expect(autoscaler.status?.conditions?.find((c) => c.type === 'AbleToScale')?.status).toBe('True');
});

test('the HPA deleted, Berth takes the service back: desiredCount inside 1..2 at once', async () => {
  await kubectlOk(['delete', 'hpa', 'web', '-n', h.namespace]);
  await untilService(h, 'web', (service) => service.spec.desiredCount === 2, 'desiredCount 2', 30_000);
  const status = (await serviceNow()).status!;
  expect(status.autoScaling?.horizontalPodAutoscaler).toBeUndefined();
  expect(status.autoScaling?.lastScalingActivity).toMatchObject({ from: 3, to: 2, cause: 'autoScaling minCapacity..maxCapacity is 1..2' });
});
