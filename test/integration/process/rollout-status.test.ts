// `berth rollout status service/NAME`, the built CLI as a user runs it (kubectl berth rollout status), against
// a service the controllers (in-process, real API server and Docker engine) roll out: it follows the rollout
// and exits 0 once it is COMPLETED; on a revision whose essential container exits at once, the circuit breaker
// fails the deployment after 3 failed launches and the command exits 1 with the reason; on a service that does
// not exist it exits 1 with kubectl's NotFound line. Not on a terminal, it writes a line per change.
// Bounded: about 40 s.
import type { Service } from '../../../src/api';
import { testEnv } from '../../env/env';
import { clusterYaml, eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { CliProcess, requireBuiltCli } from './cli-process';

const image = testEnv().testImage;
let h: Harness;

const taskDefinition = (command: string) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: ${image}
      memory: 16
      command: [sh, -c, '${command}']
`;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: 2
  deploymentConfiguration:
    minimumHealthyPercent: 50
    maximumPercent: 200
    deploymentCircuitBreaker: { enable: true, rollback: false }
`;

async function rolloutStatus(...extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess(['rollout', 'status', 'service/web', '-n', h.namespace, '--kubeconfig', testEnv().kubeconfig, ...extra]);
  const exit = await cli.waitForExit(90_000);
  if (!exit) {
    await cli.end();
    throw new Error(`berth rollout status did not end\n${cli.tail()}`);
  }
  return { code: exit.code, stdout: cli.stdout, stderr: cli.stderr };
}

beforeAll(async () => {
  requireBuiltCli();
  h = await startHarness({ prefix: 'rollout-status' });
  await h.apply(clusterYaml('demo', 1));
  await waitForInstances(h, 1);
  await h.apply(taskDefinition('trap "exit 0" TERM; sleep 3600 & wait'));
  await h.apply(service);
  await eventually(
    async () => (await h.get<Service>('bsvc/web'))?.status?.runningCount === 2,
    'web to run 2 tasks',
    60_000,
    250,
    () => h.describe(),
  );
});

afterAll(async () => {
  await h?.stop();
});

test('follows a rollout to web:2 and exits 0 when it is COMPLETED', async () => {
  await h.apply(taskDefinition('trap "exit 0" TERM; echo v2; sleep 3600 & wait'));
  const { code, stdout, stderr } = await rolloutStatus();
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const lines = stdout.trim().split('\n');
  expect(lines.at(-1)).toBe('service web successfully rolled out web:2 (2 tasks running)');
  for (const line of lines.slice(0, -1))
    expect(line).toMatch(/^Waiting for service web (to be observed by the operator|rollout to finish: \d of 2 new tasks running.*)\.\.\.$/);
  const service = await h.get<Service>('bsvc/web');
  expect(service?.status?.deployments?.find((d) => d.status === 'PRIMARY')).toMatchObject({ taskDefinition: 'web:2', rolloutState: 'COMPLETED' });
});

test('exits 1 with the reason when the circuit breaker fails the rollout', async () => {
  await h.apply(taskDefinition('exit 3'));
  const { code, stderr } = await rolloutStatus();
  expect(code).toBe(1);
  expect(stderr).toMatch(/^error: service web rollout to web:3 failed: .+/);
});

test("a service that does not exist: kubectl's NotFound, exit 1", async () => {
  const cli = new CliProcess(['rollout', 'status', 'service/nothing', '-n', h.namespace, '--kubeconfig', testEnv().kubeconfig]);
  expect(await cli.waitForExit(30_000)).toEqual({ code: 1, signal: null });
  expect(cli.stderr).toBe('Error from server (NotFound): services.berth.dev "nothing" not found\n');
});
