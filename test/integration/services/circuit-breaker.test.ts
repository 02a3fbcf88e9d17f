// The deployment circuit breaker against real containers: a revision whose container exits at once
// (sh -c 'exit 1') is deployed over a COMPLETED one; after ECS's threshold of failed launches
// (desired 2 → max(3, ceil(0.5 × 2)) = 3) the deployment is FAILED with a reason, and with
// rollback: true the service returns to the previous revision — which Docker shows running again at
// the desired count, having never dropped below it (minimumHealthyPercent 100).
import type { Service } from '../../../src/api';
import { testEnv } from '../../env/env';
import { describedEvents } from '../../support/kubectl-describe';
import {
  clusterYaml,
  eventually,
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

function taskDefinition(command: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: app
spec:
  containerDefinitions:
    - name: app
      image: ${image}
      memory: 16
      command: [sh, -c, '${command}']
      # A task is healthy once this passes, not merely once its container runs: a container of the failing
      # revision seen running for an instant never counts as healthy, so no old task is ever replaced by one.
      healthCheck: { command: [CMD, 'true'], interval: 5, timeout: 2, retries: 1 }
`;
}

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: app
spec:
  cluster: demo
  taskDefinition: app
  desiredCount: 2
  deploymentConfiguration:
    minimumHealthyPercent: 100
    maximumPercent: 200
    deploymentCircuitBreaker:
      enable: true
      rollback: true
`;

interface Deployment {
  id: string;
  status: string;
  taskDefinition: string;
  rolloutState: string;
  rolloutStateReason?: string;
  failedTasks?: number;
}

const appContainers = `${taskLabels.containerName}=app`;
const deployments = async (): Promise<Deployment[]> => (await h.get<Service>('bsvc/app'))?.status?.deployments ?? [];

beforeAll(async () => {
  h = await startHarness({ prefix: 'svc-breaker' });
  await h.apply(clusterYaml('demo', 1));
  await waitForInstances(h, 1);
});

afterAll(async () => {
  await h?.stop();
});

test('a revision that exits at once ends FAILED and the service rolls back to the running previous revision', async () => {
  await h.apply(taskDefinition('trap "exit 0" TERM; sleep 3600 & wait'));
  await h.apply(service);
  await eventually(async () => {
    const primary = (await deployments()).find((d) => d.status === 'PRIMARY');
    const running = (await h.containers(appContainers)).filter(isRunning);
    return primary?.taskDefinition === 'app:1' && primary.rolloutState === 'COMPLETED' && running.length === 2;
  }, 'app:1 COMPLETED with 2 running containers');

  const sampler = sampleContainers(h, [appContainers], (containers) => ({
    oldRunning: containers.filter((c) => isRunning(c) && labelOf(c, taskLabels.taskDefinition) === 'app:1').length,
  }));
  await h.apply(taskDefinition('exit 1'));

  const failed = await eventually(
    async () => (await deployments()).find((d) => d.taskDefinition === 'app:2' && d.rolloutState === 'FAILED'),
    'the app:2 deployment to be FAILED',
    90_000,
  );
  expect(failed.status).not.toBe('PRIMARY');
  expect(failed.rolloutStateReason).toMatch(/circuit breaker/);
  expect(failed.failedTasks).toBeGreaterThanOrEqual(3);

  // Rolled back: the PRIMARY runs app:1 again and completes; nothing of app:2 is left deploying.
  await eventually(
    async () => {
      const all = await deployments();
      const primary = all.find((d) => d.status === 'PRIMARY');
      const status = (await h.get<Service>('bsvc/app'))?.status;
      const live = (await h.containers(appContainers)).filter(isLive);
      return (
        primary?.taskDefinition === 'app:1' &&
        primary.rolloutState === 'COMPLETED' &&
        !all.some((d) => d.status === 'ACTIVE') &&
        status?.taskDefinition === 'app:1' &&
        status.runningCount === 2 &&
        live.length === 2 &&
        live.every((c) => isRunning(c) && labelOf(c, taskLabels.taskDefinition) === 'app:1')
      );
    },
    'the rollback to app:1 to complete with 2 running containers',
    90_000,
  );
  const samples = await sampler.stop();

  // The old revision kept both its tasks running the whole time (minimumHealthyPercent 100): no task of the
  // failing revision was ever healthy.
  expect(samples.length).toBeGreaterThan(10);
  expect(Math.min(...samples.map((s) => s.oldRunning))).toBe(2);

  // Docker's record of the failed revision: every app:2 container ran and exited with 1, at least 3 of them.
  const failedContainers = await h.containers(appContainers, `${taskLabels.taskDefinition}=app:2`);
  expect(failedContainers.length).toBeGreaterThanOrEqual(3);
  for (const c of failedContainers) {
    expect(c.State).toBe('exited');
    expect((await h.docker.getContainer(c.Id).inspect()).State.ExitCode).toBe(1);
  }

  const events: { reason: string; type: string; message: string }[] =
    (await h.get<{ items: { reason: string; type: string; message: string }[] }>('events'))?.items ?? [];
  const rollback = events.find((e) => e.reason === 'DeploymentRollback');
  expect(rollback?.type).toBe('Warning');
  expect(rollback?.message).toMatch(/service app is rolling back to app:1: deployment \S+ of app:2 FAILED/);
  const progressing = (await h.get<Service>('bsvc/app'))?.status?.conditions?.find((c) => c.type === 'Progressing');
  expect(progressing?.reason).toBe('DeploymentCompleted');

  // kubectl describe tells the story: app:2 started, the circuit breaker failed it, the service rolled back.
  const described = await describedEvents('bsvc', 'app', h.namespace);
  const reasons = described.map((e) => `${e.type} ${e.reason}`);
  expect(reasons).toEqual(expect.arrayContaining(['Normal DeploymentStarted', 'Warning DeploymentFailed', 'Warning DeploymentRollback']));
  expect(described.find((e) => e.reason === 'DeploymentRollback')?.message).toMatch(/service app is rolling back to app:1: deployment \S+ of app:2 FAILED/);
});
