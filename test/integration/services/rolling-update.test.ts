// Rolling updates watched from the engine: while a new revision rolls out, Docker's own container list
// is sampled every ~100 ms, and the deployment bounds of ecs-semantics.md must hold at every sample.
//
//   (a) min 100 % / max 200 %, 4 tasks: 4 new start first; an old one stops only once a new one is healthy
//       in its place (Berth replaces them one by one as the new turn healthy, not all 4 at once).
//       At every sample: ≤ 8 containers running, ≥ 4 healthy.
//   (b) min 50 % / max 100 %, 4 tasks: 2 old stop, 2 new start, and so on.
//       At every sample: ≤ 4 containers not exited, ≥ 2 healthy.
//   DAEMON, 2 instances: no surge, never more than one task's container per instance.
//
// (a) changes an environment variable of the TaskDefinition, (b) its image (the local test image under a
// second name, tagged here and untagged afterwards: no registry involved).
import type { Service } from '../../../src/api';
import type Dockerode from 'dockerode';
import { testEnv } from '../../env/env';
import { kubectlOk } from '../../env/env';
import {
  clusterYaml,
  eventually,
  isHealthy,
  isLive,
  isRunning,
  labelOf,
  sampleContainers,
  startHarness,
  taskLabels,
  waitForInstances,
  type Harness,
} from '../../support/berth-harness';

const image = testEnv().testImage;
let h: Harness;
let secondImage: string;

function webTaskDefinition(imageName: string, version: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: ${imageName}
      memory: 32
      environment:
        - name: VERSION
          value: ${version}
      command: [sh, -c, 'trap "exit 0" TERM; mkdir -p /www; echo "$VERSION" > /www/index.html; httpd -f -p 8080 -h /www & wait']
      healthCheck:
        command: [CMD-SHELL, wget -q -O /dev/null http://localhost:8080/ || exit 1]
        interval: 5
        timeout: 2
        retries: 3
        startPeriod: 0
`;
}

function webService(minimumHealthyPercent: number, maximumPercent: number): string {
  return `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: 4
  deploymentConfiguration:
    minimumHealthyPercent: ${minimumHealthyPercent}
    maximumPercent: ${maximumPercent}
`;
}

interface Counts {
  live: number;
  running: number;
  healthy: number;
}

interface Sample extends Counts {
  byRevision: Record<string, Counts>;
}

function count(containers: Dockerode.ContainerInfo[]): Counts {
  return { live: containers.filter(isLive).length, running: containers.filter(isRunning).length, healthy: containers.filter(isHealthy).length };
}

function measure(containers: Dockerode.ContainerInfo[]): Sample {
  const revisions = new Set(containers.map((c) => labelOf(c, taskLabels.taskDefinition)));
  const byRevision = Object.fromEntries([...revisions].map((r) => [r, count(containers.filter((c) => labelOf(c, taskLabels.taskDefinition) === r))]));
  return { ...count(containers), byRevision };
}

const of = (sample: Sample, revision: string): Counts => sample.byRevision[revision] ?? { live: 0, running: 0, healthy: 0 };
const webContainers = `${taskLabels.containerName}=web`;

/** The service is steady on `revision`: Berth says COMPLETED, and Docker runs exactly 4 healthy containers of it. */
async function steadyOn(service: string, container: string, revision: string, desired: number): Promise<void> {
  await eventually(
    async () => {
      const status = (await h.get<Service>(`bsvc/${service}`))?.status;
      const deployments: { status: string; rolloutState: string }[] = status?.deployments ?? [];
      const primary = deployments.find((d) => d.status === 'PRIMARY');
      if (status?.taskDefinition !== revision || primary?.rolloutState !== 'COMPLETED' || status.runningCount !== desired) return false;
      if (deployments.some((d) => d.status === 'ACTIVE')) return false;
      const live = (await h.containers(`${taskLabels.containerName}=${container}`)).filter(isLive);
      return live.length === desired && live.every((c) => labelOf(c, taskLabels.taskDefinition) === revision && isHealthy(c));
    },
    `${service} to be steady on ${revision} with ${desired} healthy containers`,
    90_000,
    250,
    () => h.describe(),
  );
}

beforeAll(async () => {
  h = await startHarness({ prefix: 'svc-rolling' });
  secondImage = `berth-test/rolling-${h.namespace}:v2`;
  await h.apply(clusterYaml('demo', 2));
  await waitForInstances(h, 2);
});

afterAll(async () => {
  try {
    await h?.stop();
  } finally {
    if (secondImage)
      await h.docker
        .getImage(secondImage)
        .remove()
        .catch(() => undefined);
  }
});

test('(a) min 100 % / max 200 %: 4 new tasks start before any old one stops, each old one goes only once replaced by a healthy new one; ≤ 8 running, ≥ 4 healthy at every sample', async () => {
  await h.apply(webTaskDefinition(image, 'v1'));
  await h.apply(webService(100, 200));
  await steadyOn('web', 'web', 'web:1', 4);

  const sampler = sampleContainers(h, [webContainers], measure);
  await h.apply(webTaskDefinition(image, 'v2'));
  await steadyOn('web', 'web', 'web:2', 4);
  const samples = await sampler.stop();

  expect(samples.length).toBeGreaterThan(20);
  expect(Math.max(...samples.map((s) => s.running))).toBeLessThanOrEqual(8);
  expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(8);
  expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(4);
  // It did surge: at some moment all 8 ran.
  expect(Math.max(...samples.map((s) => s.running))).toBe(8);

  // All 4 new containers were up (running) before the first old one stopped...
  const firstOldGone = samples.findIndex((s) => of(s, 'web:1').running < 4);
  const firstAllNewUp = samples.findIndex((s) => of(s, 'web:2').running === 4);
  expect(firstAllNewUp).toBeGreaterThanOrEqual(0);
  expect(firstOldGone).toBeGreaterThan(firstAllNewUp);
  // ...and every old container that stopped had been replaced by a healthy new one.
  for (const sample of samples) expect(of(sample, 'web:2').healthy).toBeGreaterThanOrEqual(4 - of(sample, 'web:1').running);
});

test('(b) min 50 % / max 100 %: ≤ 4 containers not exited and ≥ 2 healthy at every sample (image change)', async () => {
  await h.apply(webService(50, 100));
  await steadyOn('web', 'web', 'web:2', 4);
  await h.docker.getImage(image).tag({ repo: secondImage.split(':')[0], tag: 'v2' });

  const sampler = sampleContainers(h, [webContainers], measure);
  await h.apply(webTaskDefinition(secondImage, 'v2'));
  await steadyOn('web', 'web', 'web:3', 4);
  const samples = await sampler.stop();

  expect(samples.length).toBeGreaterThan(20);
  expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
  expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(2);
  // It went down to the floor (2 old stopped first) rather than one at a time or all at once.
  expect(Math.min(...samples.map((s) => s.healthy))).toBe(2);
  // Halfway: 2 old still healthy while 2 new start.
  expect(samples.some((s) => of(s, 'web:2').healthy === 2 && of(s, 'web:3').live === 2)).toBe(true);

  const live = (await h.containers(webContainers)).filter(isLive);
  expect(live.map((c) => c.Image)).toEqual([secondImage, secondImage, secondImage, secondImage]);
});

test('DAEMON rollout on 2 instances: never more than one task container per instance, one instance at a time', async () => {
  // Make room: the replica service goes to 0.
  await kubectlOk(['scale', 'bsvc/web', '-n', h.namespace, '--replicas=0']);
  await eventually(async () => (await h.containers(webContainers)).filter(isLive).length === 0, 'the web containers to stop');

  const agent = (version: string) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: agent
spec:
  containerDefinitions:
    - name: agent
      image: ${image}
      memory: 16
      environment:
        - name: VERSION
          value: ${version}
      command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
      healthCheck:
        command: [CMD-SHELL, 'true']
        interval: 5
        timeout: 2
        retries: 3
`;
  await h.apply(agent('v1'));
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: agent
spec:
  cluster: demo
  taskDefinition: agent
  schedulingStrategy: DAEMON
  deploymentConfiguration:
    minimumHealthyPercent: 50
`);
  await steadyOn('agent', 'agent', 'agent:1', 2);
  const instancesOf = (containers: Dockerode.ContainerInfo[]) => new Set(containers.filter(isLive).map((c) => labelOf(c, taskLabels.containerInstance)));
  expect(instancesOf(await h.containers(`${taskLabels.containerName}=agent`)).size).toBe(2);

  const sampler = sampleContainers(h, [`${taskLabels.containerName}=agent`], (containers) => {
    const perInstance: Record<string, number> = {};
    for (const c of containers.filter(isLive))
      perInstance[labelOf(c, taskLabels.containerInstance)] = (perInstance[labelOf(c, taskLabels.containerInstance)] ?? 0) + 1;
    return { perInstance, healthy: containers.filter(isHealthy).length };
  });
  await h.apply(agent('v2'));
  await steadyOn('agent', 'agent', 'agent:2', 2);
  const samples = await sampler.stop();

  expect(samples.length).toBeGreaterThan(20);
  for (const sample of samples) {
    for (const n of Object.values(sample.perInstance)) expect(n).toBeLessThanOrEqual(1);
  }
  // minimumHealthyPercent 50 of 2 instances: one instance at a time, so one stays healthy throughout.
  expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(1);
  const final = (await h.containers(`${taskLabels.containerName}=agent`)).filter(isLive);
  expect(instancesOf(final).size).toBe(2);
  expect(final.every((c) => labelOf(c, taskLabels.taskDefinition) === 'agent:2')).toBe(true);
});
