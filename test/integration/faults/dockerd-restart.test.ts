// Fault injection on the Docker engine itself: the built `berth operator`, with an in-process agent on a
// managed node group with `provider: local`, runs a Service whose tasks are RUNNING when their engine is
// restarted under them — first gracefully (SIGTERM: dockerd stops every container, as it does without
// live-restore, and is started again on the same directories), then by SIGKILL (the containers outlive
// it under their shims, and the restarted dockerd kills them as it restores them). The engine is a
// private one (private-dockerd.ts: its own network namespace and directories), never the shared
// /var/run/docker.sock the other suites use.
//
// The agent loses its engine connection and its event stream (container-events.ts reopens the stream
// with backoff, from the last event seen); when the engine is back it must see that every container
// died, report each task STOPPED as ECS does (stopCode EssentialContainerExited, "Essential container
// in task exited: web …"), and the service scheduler must replace them. Judged from Docker's own
// container list and event stream (container-audit.ts) and every state of the Tasks (task-ledger.ts),
// never from Berth's status reports.
//
// The service: desiredCount 3, minimumHealthyPercent 50, maximumPercent 200, so
//   ceiling = floor(200 × 3 / 100) = 6 tasks not STOPPED, floor = ceil(50 × 3 / 100) = 2 RUNNING-and-healthy.
// The fault itself takes every task below the floor (all 3 containers die at once), so from the fault
// until the service is steady again the ledger judges the bounds that hold through a fault
// (task-ledger.ts): the ceiling, 6 tasks not STOPPED, for the deployment too (3 live + up to 3 stopping),
// and the lifecycle, not the floor; outside those windows the floor of 2 and the bound of 3 per deployment.
// Tasks are busybox `sleep` (PID 1 ignores SIGTERM: stopTimeout 2 keeps dockerd's shutdown at ~2 s) with a
// health check; one instance of 4096 CPU / 4096 MiB holds the ceiling many times over.
//
// Three faults, each from the state the last one left: a SIGTERM restart and a SIGKILL restart under 3
// RUNNING tasks of web:1, then a SIGKILL in the middle of the rollout to web:2 (its new tasks created,
// the 3 old ones still running). Each asserts:
//   - it converges: the service steady on its revision, exactly 3 tasks not STOPPED, all RUNNING, and
//     exactly 3 running containers, one for each of them;
//   - every stop of every task, judged in the round it happened in, is one of three, as ECS words it:
//     a task not STOPPED at the fault, its essential container exited (EssentialContainerExited,
//     "Essential container in task exited: web …"); an old revision's task stopped by the service
//     scheduler for the new deployment (ServiceSchedulerInitiated); or a replacement started while
//     dockerd was shutting down, which the engine refused (TaskFailedToStart, CannotStartContainerError:
//     its container created, never run — ECS reports the same, and the service replaces it in turn);
//   - nothing duplicated: the PRIMARY deployment created 3 tasks plus one per task of it that failed,
//     e.g. 3 + 3 killed + 2 refused = 8; a replaced deployment created none since the fault; no task
//     name held by two uids; every task that ran at the fault STOPPED, its containers exited;
//   - container-audit.ts: at every Docker sample no container duplicated and none running for a STOPPED
//     task; no container started twice (two `start` events for one id, followed across the restart from
//     the new engine's first event); none for a task that never was; no orphan;
//   - task-ledger.ts: every observed state within the bounds above, no lifecycle going back, no gap.
//
// Not asserted: the ContainerInstance's agentConnected. It reports the agent's heartbeat Lease (40 s),
// which the agent renews whether or not its engine answers, so it stays true through these 1–7 s
// outages; tying it to the engine is a change of Berth's semantics, not a test's.
//
// Bounded: about 1.5 minutes on a busy 2-core machine (each fault 10–40 s: dockerd's stop, start and
// restore, the agent's reconnect backoff up to 10 s, the replacements' first health check at 5 s).
import { kubectlOk, testEnv } from '../../env/env';
import { dockerClient, waitFor, type CliProcess } from '../process/cli-process';
import { ContainerAudit, describeContainers } from './container-audit';
import { describeService, localClusterManifest, startFaultEnv, steadyOn, taskLabels, webServiceManifest, type FaultEnv } from './fault-env';
import { PrivateDockerd } from './private-dockerd';
import { TaskLedger } from './task-ledger';

const desiredCount = 3;
const limits = { minimumHealthyPercent: 50, maximumPercent: 200 };
const convergeTimeoutMs = 120_000;

const manifests = `${localClusterManifest('engine')}
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
      stopTimeout: 2
      environment:
        - name: ROUND
          value: round-0
      command: [sh, -c, 'touch /tmp/ready && exec sleep 3600']
      healthCheck:
        command: [CMD-SHELL, 'test -f /tmp/ready']
        interval: 5
        timeout: 3
        retries: 2
---
${webServiceManifest('engine', desiredCount, limits)}`;

let dockerd: PrivateDockerd;
let env: FaultEnv;
let ledger: TaskLedger;
let audit: ContainerAudit;
let operator: CliProcess;
/** Every task uid that was not STOPPED at a fault. */
const killed = new Set<string>();
/** Tasks whose stop a round has judged already. */
const judged = new Set<string>();
/** The revision the service is steady on. */
let current = 'web:1';
let failed: string | undefined;
const reports: string[] = [];

beforeAll(async () => {
  dockerd = new PrivateDockerd();
  await dockerd.start();
  await dockerd.loadImage(dockerClient(), testEnv().testImage);
  env = await startFaultEnv('fault-dockerd');
  ledger = new TaskLedger(env.namespace);
  await ledger.start();
  audit = new ContainerAudit(dockerd.docker, env.namespace, ledger, 1);
  await audit.start();
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests);
  operator = env.startOperator({ dockerHost: dockerd.host });
  await steady(current, () => 'before any fault');
  ledger.checkBounds({ desiredCount, ...limits });
}, convergeTimeoutMs + 60_000);

afterAll(async () => {
  await audit?.stop();
  ledger?.stop();
  await env?.teardown();
  await dockerd?.destroy();
  if (reports.length > 0) console.log(`dockerd-restart\n${reports.join('\n')}`);
}, 120_000);

async function diagnostics(detail: () => string): Promise<string> {
  const containers = await audit.list().then(describeContainers, (error: Error) => `docker ps failed: ${error.message}`);
  return `${describeService(await env.service('web'))}\n${ledger.summary()}\ncontainers:\n${containers}\n${detail()}\n${operator.tail(20)}\n${dockerd.logTail(10)}`;
}

/** The service is steady on `revision` with exactly 3 RUNNING tasks, and Docker runs exactly one container for each. */
async function steady(revision: string, detail: () => string): Promise<void> {
  await waitFor(
    async () => {
      const live = ledger.live();
      const liveUids = new Set(live.map((t) => t.metadata.uid));
      const settled =
        live.length === desiredCount &&
        live.every((t) => t.spec.taskDefinition === revision && t.spec.desiredStatus === 'RUNNING' && t.status?.lastStatus === 'RUNNING');
      if (!settled || !steadyOn(await env.service('web'), revision, desiredCount)) return false;
      const running = (await audit.sample()).filter((c) => c.State === 'running');
      const perTask = new Set(running.map((c) => c.Labels[taskLabels.taskUid]));
      return running.length === desiredCount && perTask.size === desiredCount && [...perTask].every((uid) => liveUids.has(uid));
    },
    `the service to be steady on ${revision}: ${desiredCount} RUNNING tasks, one running container each`,
    convergeTimeoutMs,
    () => diagnostics(detail),
    250,
  );
}

describe('dockerd restarted under RUNNING tasks (a private engine in its own network namespace)', () => {
  test(
    'graceful restart (SIGTERM: dockerd stops the containers): the tasks are STOPPED as their container exited, and replaced once each',
    async () => {
      await restartEngine('SIGTERM');
    },
    convergeTimeoutMs + 90_000,
  );

  test(
    'SIGKILL, then a start: the restarted dockerd kills the containers as it restores them, and Berth converges the same way',
    async () => {
      await restartEngine('SIGKILL');
    },
    convergeTimeoutMs + 90_000,
  );

  test(
    'SIGKILL in the middle of a rolling update (new tasks starting, the old ones still running): the rollout finishes, each task once',
    async () => {
      await restartEngine('SIGKILL', { from: 'web:1', to: 'web:2', value: 'round-1' });
    },
    convergeTimeoutMs + 90_000,
  );
});

async function restartEngine(signal: 'SIGTERM' | 'SIGKILL', rollout?: { from: string; to: string; value: string }): Promise<void> {
  if (failed !== undefined) throw new Error(`${failed} failed: this test starts from the state it left`);
  failed = `the ${signal} restart`;
  const started = Date.now();
  const revision = rollout?.to ?? current;
  if (rollout) {
    // Mid-rollout: new tasks created, every old one still running (the new ones are not healthy yet).
    await env.setEnvironment('web', rollout.value);
    await ledger.until(
      () => ledger.live(rollout.to).length > 0 && ledger.live(rollout.from).length === desiredCount,
      `the rollout to ${rollout.to} to have started`,
      convergeTimeoutMs,
    );
  }
  const atFault = ledger.live();
  if (!rollout) expect(atFault.map((t) => t.status?.lastStatus)).toEqual(Array<string>(desiredCount).fill('RUNNING'));
  for (const task of atFault) killed.add(task.metadata.uid!);
  const faultUids = new Set(atFault.map((t) => t.metadata.uid!));
  const knownAtFault = new Set(ledger.history.keys());
  const runningAtFault = (await audit.sample()).filter((c) => c.State === 'running').map((c) => c.Labels[taskLabels.taskUid]);
  expect(runningAtFault.every((uid) => faultUids.has(uid))).toBe(true);

  ledger.checkBoundsThroughFault({ desiredCount, ...limits });
  ledger.resetExtremes();
  await audit.engineStopping();
  const exit = await dockerd.stop(signal);
  expect(exit).toEqual(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
  const stoppedAt = Date.now();
  const since = Math.floor(stoppedAt / 1000);
  await dockerd.start();
  const downMs = Date.now() - stoppedAt;
  await audit.engineStarted(since);

  await steady(revision, () => `after the ${signal} restart of dockerd${rollout ? ` during the rollout to ${rollout.to}` : ''}`);
  current = revision;
  const steadyAfterS = ((Date.now() - started) / 1000).toFixed(1);
  ledger.checkBounds({ desiredCount, ...limits });

  // Every stop, of every task ever seen, is one of three, each worded as ECS words it:
  //   - a task running at a fault: its essential container exited (EssentialContainerExited);
  //   - a task of a replaced revision, stopped by the service scheduler for the new deployment;
  //   - a task started while dockerd was shutting down: the engine refused the start
  //     (TaskFailedToStart, CannotStartContainerError), its container created and never run.
  // Any other stop is a task Berth lost track of. Each stop is judged in the round it happened in.
  const containers = await audit.list();
  const deploymentOf = (rev: string) => [...ledger.history.values()].find((h) => h.taskDefinition === rev)?.deployment;
  // Never run: no `start` on the engine's event stream for it, and what is left of its containers only
  // created (a service keeps its 10 newest STOPPED tasks, so an older one's containers may be swept already).
  const neverRan = (uid: string) =>
    audit.seenUids.has(uid) &&
    !audit.startedTasks.has(uid) &&
    containers.filter((c) => c.Labels[taskLabels.taskUid] === uid).every((c) => c.State === 'created');
  const stops = [...ledger.history.values()].filter((h) => h.stopCode !== undefined);
  const wrongStops = stops
    .filter(
      (h) =>
        !judged.has(h.uid) &&
        !(h.stopCode === 'EssentialContainerExited' && killed.has(h.uid) && /^Essential container in task exited: web /.test(h.stoppedReason ?? '')) &&
        !(
          h.stopCode === 'ServiceSchedulerInitiated' &&
          h.taskDefinition !== current &&
          h.stoppedReason === `Scaling activity initiated by (deployment ${deploymentOf(current)})`
        ) &&
        !(h.stopCode === 'TaskFailedToStart' && /^Task failed to start: web: CannotStartContainerError: /.test(h.stoppedReason ?? '') && neverRan(h.uid)),
    )
    .map((h) => `${h.name} ${h.taskDefinition}: ${h.stopCode} ${h.stoppedReason}`);
  expect(wrongStops).toEqual([]);
  for (const h of stops) judged.add(h.uid);
  // Nothing duplicated: the PRIMARY deployment created desiredCount tasks and one replacement per task of
  // it that failed (every stop but the scheduler's own), no more; a replaced deployment created none since
  // the fault (its failed tasks are not replaced: the new deployment's are).
  const primaryId = deploymentOf(current);
  const primary = [...ledger.history.values()].filter((h) => h.deployment === primaryId);
  const primaryFailed = primary.filter((h) => h.stopCode !== undefined && h.stopCode !== 'ServiceSchedulerInitiated').length;
  expect({ primary: primaryId, created: primary.length }).toEqual({ primary: primaryId, created: desiredCount + primaryFailed });
  const byOthersSinceFault = [...ledger.history.values()].filter((h) => h.deployment !== primaryId && !knownAtFault.has(h.uid)).map((h) => h.name);
  expect(byOthersSinceFault).toEqual([]);
  // Every task that ran at the fault is STOPPED, and its containers have exited (none removed behind its back).
  expect(
    atFault.filter((t) => ledger.history.get(t.metadata.uid!)?.stopCode === undefined && t.spec.taskDefinition !== revision).map((t) => t.metadata.name),
  ).toEqual([]);
  const stillRunning = containers.filter((c) => runningAtFault.includes(c.Labels[taskLabels.taskUid]) && c.State !== 'exited');
  expect(describeContainers(stillRunning)).toBe('');
  expect({ ledger: ledger.violations, audit: audit.violations, unknown: audit.unknownTasks() }).toEqual({ ledger: [], audit: [], unknown: [] });
  const { orphans } = await audit.withoutTask();
  expect(orphans).toEqual([]);
  const failedStarts = stops.filter((h) => h.stopCode === 'TaskFailedToStart').length;
  reports.push(
    `${signal}${rollout ? ` during the rollout to ${rollout.to}` : ''}: ${atFault.length} tasks at the fault, ${runningAtFault.length} running containers; ` +
      `engine down ${(downMs / 1000).toFixed(1)} s, steady ${steadyAfterS} s after the fault; ${ledger.seen.events} Task events, ` +
      `max not stopped ${ledger.seen.maxNotStopped}; ${failedStarts} tasks so far failed to start on a stopping engine; ${audit.samples} Docker samples so far`,
  );
  failed = undefined;
}
