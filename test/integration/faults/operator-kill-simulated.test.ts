// Fault injection: the built `berth operator` is SIGKILLed at a seeded-random moment of a 200-task
// rolling update, 20 times in a row, against the real kube-apiserver, with a managed node group of
// simulated instances (20 × 4096 CPU / 8192 MiB; in-process, so they die with the operator). Each round
// changes the TaskDefinition (one environment value), kills the operator after a seeded-random number of
// Task events, starts a new one at once, and waits until the service is steady on the new revision.
//
// The service: desiredCount 200, minimumHealthyPercent 50, maximumPercent 150, so
//   ceiling = floor(150 × 200 / 100) = 300 tasks not STOPPED, floor = ceil(50 × 200 / 100) = 100
//   RUNNING-and-healthy; each task takes 256 CPU / 512 MiB, 16 per instance, 320 in all: the ceiling
//   always fits, and a rollout proceeds in steps (start 100 new and stop 100 old, and so on), so both
//   bounds are reached in every round (the report prints the extremes seen).
//
// What a kill does to simulated instances: the new operator's cluster controller launches every instance
// again (a fresh simulated engine that holds nothing), and its agents run every task bound to them. For a
// task already RUNNING, `ensureRunning` starts its containers again; the lifecycle keeps the task RUNNING
// (an observation of containers starting is neither a failure nor an exit), and the service scheduler
// counts it healthy (RUNNING, no health check). A task that was stopping finds nothing to stop and reaches
// STOPPED with the stop code it was given. So what must hold, and is asserted:
//   - every round converges: PRIMARY of the new revision COMPLETED, exactly 200 tasks not STOPPED, all of
//     the new revision, RUNNING, with their container RUNNING;
//   - rollout-checks.ts: at every observed state (each Task watch event; the kill and the gap without an
//     operator included) tasks not STOPPED ≤ 300, RUNNING-and-healthy ≥ 100, no deployment with more
//     than 200 live tasks, no task name ever held by a second uid, no task going back in its lifecycle;
//     the new deployment created exactly 200 tasks, ordinals 0..199, once each; no task stopped by the
//     restart: every STOPPED task is one of the replaced deployment, stopped with stopCode
//     ServiceSchedulerInitiated and "Scaling activity initiated by (deployment <new>)" — never
//     TaskFailedToStart, EssentialContainerExited or TerminationNotice.
//
// The kill points are drawn from the project's seeded PRNG (seed below), as a number of Task events after
// the TaskDefinition change, in [0, 1000): a rollout of 200 tasks makes about 1600 (every new task is
// created, bound, reported PENDING and RUNNING; every old one asked to stop, STOPPING, STOPPED, pruned),
// so each kill lands before the rollout is done, from "before the new revision is even registered" to
// "the last old tasks stopping". A failure message names the round and its kill point; rounds build on
// each other, so after a failed round the rest fail at once, naming it.
//
// Bounded by the API server's work (about 2,400 requests a round: Task writes, Events): rounds took 13–52 s,
// and the suite 9.5–10.5 minutes, on a 2-core machine that other test runs were loading at the same time.
// Each round's own timeout is 3 minutes.
import { seededRandom } from '../../../src/runtime/seeded-random';
import { kubectlOk } from '../../env/env';
import { waitFor, type CliProcess } from '../process/cli-process';
import { describeService, simulatedRolloutManifests, startFaultEnv, steadyOn, type FaultEnv } from './fault-env';
import { deploymentOf, expectCleanRollout, type DeploymentTasks } from './rollout-checks';
import { TaskLedger } from './task-ledger';

const seed = 8;
const rounds = 20;
const desiredCount = 200;
const limits = { minimumHealthyPercent: 50, maximumPercent: 150 };
const killWindowEvents = 1000;
const roundTimeoutMs = 180_000;
const setupTimeoutMs = 240_000;

const manifests = simulatedRolloutManifests({ instances: 20, desiredCount, limits });

interface RoundReport {
  round: number;
  killAfterEvents: number;
  atKill: string;
  seconds: number;
  events: number;
  minHealthy: number;
  maxNotStopped: number;
}

let env: FaultEnv;
let ledger: TaskLedger;
let operator: CliProcess;
const reports: RoundReport[] = [];
const random = seededRandom(seed);
/** The deployment of the revision running now: its id and every task it created. */
let previous: DeploymentTasks;
/** Every task of a deployment that has been replaced: the only tasks that may ever stop. */
const replaced = new Set<string>();
/** Rounds build on each other: one that fails leaves a state the next cannot start from. */
let failedRound: number | undefined;

beforeAll(async () => {
  env = await startFaultEnv('fault-sim');
  ledger = new TaskLedger(env.namespace);
  await ledger.start();
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests);
  operator = env.startOperator();
  await steady('web:1', () => operator.tail(15));
  previous = deploymentOf(ledger, 'web:1');
  expect(previous.uids).toHaveLength(desiredCount);
  // From the first steady state on, every observed state must keep the floor and the ceiling.
  ledger.checkBounds({ desiredCount, ...limits });
}, setupTimeoutMs);

afterAll(async () => {
  ledger?.stop();
  await env?.teardown();
  if (reports.length > 0) {
    const lines = reports.map(
      (r) =>
        `round ${r.round}: killed after ${r.killAfterEvents} Task events (${r.atKill}); steady ${r.seconds.toFixed(1)} s after the change, ${r.events} events, min healthy ${r.minHealthy}, max not stopped ${r.maxNotStopped}`,
    );
    console.log(`operator-kill-simulated, seed ${seed}\n${lines.join('\n')}`);
  }
}, 120_000);

/** Waits until the service is steady on `revision` and the ledger shows exactly its 200 tasks RUNNING, their containers too. */
async function steady(revision: string, detail: () => string): Promise<void> {
  await waitFor(
    async () => {
      const live = ledger.live();
      const settled =
        live.length === desiredCount &&
        live.every(
          (t) =>
            t.spec.taskDefinition === revision &&
            t.spec.desiredStatus === 'RUNNING' &&
            t.status?.lastStatus === 'RUNNING' &&
            (t.status.containers ?? []).length === 1 &&
            (t.status.containers ?? []).every((c) => c.lastStatus === 'RUNNING'),
        );
      return settled && steadyOn(await env.service('web'), revision, desiredCount);
    },
    `the service to be steady on ${revision} with ${desiredCount} RUNNING tasks`,
    roundTimeoutMs,
    async () => `${describeService(await env.service('web'))}\n${ledger.summary()}\n${detail()}`,
    200,
  );
}

describe(`SIGKILL of the operator at ${rounds} random moments of a ${desiredCount}-task rollout on simulated instances`, () => {
  for (let round = 1; round <= rounds; round++) {
    test(
      `round ${round}: converges within the bounds, no duplicate task, no task stopped by the restart`,
      async () => {
        if (failedRound !== undefined) throw new Error(`round ${failedRound} failed: this round starts from the state it left`);
        failedRound = round;
        await killDuringRollout(round);
        failedRound = undefined;
      },
      roundTimeoutMs + 30_000,
    );
  }

  test('a SIGTERM ends the last operator cleanly', async () => {
    operator.signal('SIGTERM');
    expect(await operator.waitForExit(20_000)).toEqual({ code: 0, signal: null });
  });
});

async function killDuringRollout(round: number): Promise<void> {
  const revision = `web:${round + 1}`;
  const oldRevision = `web:${round}`;
  const killAfterEvents = Math.floor(random() * killWindowEvents);
  const context = () => `round ${round} (seed ${seed}), operator killed after ${killAfterEvents} Task events\n${operator.tail(15)}`;
  ledger.resetExtremes();
  const started = Date.now();
  const mark = ledger.events;

  await env.setEnvironment('web', String(round));
  await ledger.until(() => ledger.events >= mark + killAfterEvents, `${killAfterEvents} Task events of the rollout to ${revision}`, roundTimeoutMs);
  operator.signal('SIGKILL');
  const killed = await operator.waitForExit(10_000);
  expect(killed?.signal).toBe('SIGKILL');
  const oldLive = ledger.live(oldRevision).length;
  const newLive = ledger.live(revision).length;
  const atKill = `${oldLive} old and ${newLive} new tasks not STOPPED`;
  // Mid-rollout: old tasks still live, or new ones still to come.
  expect({ atKill, midRollout: oldLive > 0 || newLive < desiredCount }).toEqual({ atKill, midRollout: true });

  operator = env.startOperator();
  await steady(revision, context);

  const seen = ledger.seen;
  reports.push({
    round,
    killAfterEvents,
    atKill,
    seconds: (Date.now() - started) / 1000,
    events: seen.events,
    minHealthy: seen.minHealthy,
    maxNotStopped: seen.maxNotStopped,
  });
  const current = expectCleanRollout(ledger, { previous, revision, desiredCount, replaced });
  previous = current;
}
