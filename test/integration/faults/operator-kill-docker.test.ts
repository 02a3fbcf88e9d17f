// Fault injection on real containers: the built `berth operator`, with in-process agents on the real
// Docker engine (a managed node group with `provider: local`), is SIGKILLed at a seeded-random moment of
// a rolling update, 3 times, and a new operator is started at once. Unlike simulated instances, the
// containers outlive the process: the new operator's agents must re-adopt them (they find them by their
// labels), finish the rollout, and leave no duplicate and no orphan — judged from Docker's own container
// list (container-audit.ts, sampled at every container event) and from every state of the Tasks
// (task-ledger.ts), never from Berth's status reports.
//
// The service: desiredCount 4, minimumHealthyPercent 50, maximumPercent 150, so
//   ceiling = floor(150 × 4 / 100) = 6 tasks not STOPPED, floor = ceil(50 × 4 / 100) = 2 RUNNING-and-healthy;
// one instance of 4096 CPU / 4096 MiB holds the ceiling many times over (tasks of 128 CPU / 64 MiB). Tasks
// are busybox httpd with a health check, answering on a dynamic host port of 127.0.0.1 with the
// environment value of their revision.
//
// Each round asserts:
//   - it converges: PRIMARY of the new revision COMPLETED, 4 RUNNING tasks, exactly 4 running containers,
//     all of the new revision, each answering with the new value;
//   - rollout-checks.ts: every observed Task state (the kill and the gap included) within the bounds
//     above, no task name reused, no lifecycle going back; the new deployment created exactly 4 tasks,
//     ordinals 0..3; every STOPPED task an old one stopped by the service scheduler for the new deployment;
//   - container-audit.ts: at every Docker sample, no container duplicated and none running for a STOPPED
//     task; no container for a task that never was; at the end of the round no orphan (a container
//     whose Task is gone, but for exited containers of pruned Tasks, which the sweep removes);
//   - the old tasks' containers have all exited.
// The kill points are a seeded-random number of Task events after the TaskDefinition change, in [0, 24):
// a rollout of 4 tasks makes about 36 (each new task created, bound, PENDING, RUNNING, healthy; each old
// one asked to stop, STOPPING, STOPPED), so each kill lands before the old tasks are all stopped.
//
// After the rounds, the checks of the single-round test this suite replaces: deleting the Service with
// the operator running stops its tasks and the agent's sweep (every 30 s) removes every container, the
// pruned Tasks' too; the namespace goes while the operator runs; SIGTERM ends the operator with 0.
//
// Bounded: about 2 minutes on a busy 2-core machine (each round 15–30 s, the sweep up to 30 s).
import { seededRandom } from '../../../src/runtime/seeded-random';
import { kubectlOk, testEnv } from '../../env/env';
import { waitFor, type CliProcess } from '../process/cli-process';
import { ContainerAudit, describeContainers } from './container-audit';
import { describeService, localClusterManifest, startFaultEnv, steadyOn, taskLabels, webServiceManifest, type FaultEnv } from './fault-env';
import { deploymentOf, expectCleanRollout, type DeploymentTasks } from './rollout-checks';
import { TaskLedger } from './task-ledger';

const seed = 8;
const rounds = 3;
const desiredCount = 4;
const limits = { minimumHealthyPercent: 50, maximumPercent: 150 };
const killWindowEvents = 20;
const roundTimeoutMs = 120_000;
/** The agent's orphan sweep runs every 30 s. */
const sweepTimeoutMs = 60_000;

const manifests = `${localClusterManifest('restart')}
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: ${testEnv().testImage}
      essential: true
      cpu: 128
      memory: 64
      # httpd is PID 1 and ignores SIGTERM: a short stopTimeout keeps the old tasks' stop quick.
      stopTimeout: 2
      command: [sh, -c, 'mkdir -p /www && echo "hello $GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www']
      portMappings:
        - containerPort: 8080
          hostPort: 0
      environment:
        - name: GREETING
          value: round-0
      healthCheck:
        command: [CMD-SHELL, 'wget -q -O /dev/null http://localhost:8080/ || exit 1']
        interval: 5
        timeout: 3
        retries: 3
---
${webServiceManifest('restart', desiredCount, limits)}`;

let env: FaultEnv;
let ledger: TaskLedger;
let audit: ContainerAudit;
let operator: CliProcess;
const random = seededRandom(seed);
let previous: DeploymentTasks;
const replaced = new Set<string>();
let failedRound: number | undefined;
const reports: string[] = [];

beforeAll(async () => {
  env = await startFaultEnv('fault-docker');
  ledger = new TaskLedger(env.namespace);
  await ledger.start();
  audit = new ContainerAudit(env.docker, env.namespace, ledger, 1);
  await audit.start();
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests);
  operator = env.startOperator();
  await steady('web:1', 'round-0', () => operator.tail(15));
  previous = deploymentOf(ledger, 'web:1');
  ledger.checkBounds({ desiredCount, ...limits });
}, roundTimeoutMs);

afterAll(async () => {
  await audit?.stop();
  ledger?.stop();
  await env?.teardown();
  if (reports.length > 0) console.log(`operator-kill-docker, seed ${seed}\n${reports.join('\n')}`);
}, 120_000);

async function diagnostics(detail: () => string): Promise<string> {
  return `${describeService(await env.service('web'))}\n${ledger.summary()}\ncontainers:\n${describeContainers(await audit.list())}\n${detail()}`;
}

/**
 * Waits until the service is steady on `revision`, the ledger shows exactly its 4 tasks RUNNING, and
 * Docker runs exactly their 4 containers, each answering with `greeting`.
 */
async function steady(revision: string, greeting: string, detail: () => string): Promise<void> {
  await waitFor(
    async () => {
      const live = ledger.live();
      const liveUids = new Set(live.map((t) => t.metadata.uid));
      const settled =
        live.length === desiredCount &&
        live.every((t) => t.spec.taskDefinition === revision && t.spec.desiredStatus === 'RUNNING' && t.status?.lastStatus === 'RUNNING');
      if (!settled || !steadyOn(await env.service('web'), revision, desiredCount)) return false;
      const running = (await audit.sample()).filter((c) => c.State === 'running');
      return (
        running.length === desiredCount && running.every((c) => liveUids.has(c.Labels[taskLabels.taskUid]) && c.Labels[taskLabels.taskDefinition] === revision)
      );
    },
    `the service to be steady on ${revision}: ${desiredCount} RUNNING tasks and as many running containers`,
    roundTimeoutMs,
    () => diagnostics(detail),
    250,
  );
  for (const c of (await audit.list()).filter((c) => c.State === 'running')) {
    const port = c.Ports.find((p) => p.PrivatePort === 8080);
    expect(port?.IP).toBe('127.0.0.1');
    const response = await fetch(`http://127.0.0.1:${port?.PublicPort}/`);
    expect((await response.text()).trim()).toBe(`hello ${greeting}`);
  }
}

describe(`SIGKILL of the operator at ${rounds} random moments of a rollout on real containers`, () => {
  for (let round = 1; round <= rounds; round++) {
    test(
      `round ${round}: the new operator re-adopts the containers and finishes the rollout, with no duplicate and no orphan`,
      async () => {
        if (failedRound !== undefined) throw new Error(`round ${failedRound} failed: this round starts from the state it left`);
        failedRound = round;
        await killDuringRollout(round);
        failedRound = undefined;
      },
      roundTimeoutMs + 30_000,
    );
  }

  test("deleting the Service with the operator running stops its tasks, and the agent's sweep removes their containers", async () => {
    await kubectlOk(['delete', 'services.berth.dev', 'web', '-n', env.namespace, '--timeout=60s']);
    await waitFor(
      async () => (await audit.list()).length === 0,
      "the deleted Service's containers to be removed",
      sweepTimeoutMs,
      async () => describeContainers(await audit.list()),
    );
    expect({ violations: audit.violations, unknown: audit.unknownTasks() }).toEqual({ violations: [], unknown: [] });
  }, 120_000);

  test('the namespace goes while the operator runs (it releases its finalizers), and SIGTERM ends it cleanly', async () => {
    await audit.stop();
    ledger.stop();
    await kubectlOk(['delete', 'namespace', env.namespace, '--timeout=60s']);
    operator.signal('SIGTERM');
    expect(await operator.waitForExit(20_000)).toEqual({ code: 0, signal: null });
  }, 120_000);
});

async function killDuringRollout(round: number): Promise<void> {
  const revision = `web:${round + 1}`;
  const oldRevision = `web:${round}`;
  const greeting = `round-${round}`;
  const killAfterEvents = Math.floor(random() * killWindowEvents);
  const context = () => `round ${round} (seed ${seed}), operator killed after ${killAfterEvents} Task events\n${operator.tail(15)}`;
  ledger.resetExtremes();
  const started = Date.now();
  const mark = ledger.events;

  await env.setEnvironment('web', greeting);
  await ledger.until(() => ledger.events >= mark + killAfterEvents, `${killAfterEvents} Task events of the rollout to ${revision}`, roundTimeoutMs);
  operator.signal('SIGKILL');
  expect((await operator.waitForExit(10_000))?.signal).toBe('SIGKILL');
  const oldLive = ledger.live(oldRevision).length;
  const newLive = ledger.live(revision).length;
  const containersAtKill = (await audit.sample()).filter((c) => c.State === 'running');
  const atKill = `${oldLive} old and ${newLive} new tasks not STOPPED, ${containersAtKill.length} running containers`;
  expect({ atKill, midRollout: oldLive > 0 || newLive < desiredCount }).toEqual({ atKill, midRollout: true });

  operator = env.startOperator();
  await steady(revision, greeting, context);
  // No orphan: every container belongs to a Task that exists, but for exited ones of pruned Tasks (the sweep's).
  const { awaitingSweep, orphans } = await audit.withoutTask();
  expect(orphans).toEqual([]);
  reports.push(
    `round ${round}: killed after ${killAfterEvents} Task events (${atKill}); steady ${((Date.now() - started) / 1000).toFixed(1)} s after the change, ` +
      `${ledger.seen.events} events, min healthy ${ledger.seen.minHealthy}, max not stopped ${ledger.seen.maxNotStopped}; ` +
      `${audit.samples} Docker samples so far, ${awaitingSweep.length} exited containers of pruned Tasks awaiting the sweep`,
  );

  const current = expectCleanRollout(ledger, { previous, revision, desiredCount, replaced });
  expect({ violations: audit.violations, count: audit.violationCount, unknown: audit.unknownTasks() }).toEqual({ violations: [], count: 0, unknown: [] });
  // The old tasks' containers have all exited (they stay, with their logs, until their Task is removed).
  const oldRunning = (await audit.list()).filter((c) => c.State === 'running' && c.Labels[taskLabels.taskDefinition] !== revision);
  expect(describeContainers(oldRunning)).toBe('');
  previous = current;
}
