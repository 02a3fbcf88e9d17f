// Fault injection on a replicated operator: two built `berth operator` processes with leader election
// (`--leader-elect`, one Lease `berth-operator` in the test's namespace, the defaults of
// leader-election.ts: leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s). The leader is SIGKILLed
// at a seeded-random moment of a rolling update; the standby, whose informers have been watching all
// along, must take the Lease once it has lapsed, start the controllers and its in-process agents, and
// finish the rollout.
//
// The service: desiredCount 100 on a managed node group of 10 simulated instances (4096 CPU / 8192 MiB,
// tasks of 256 CPU / 512 MiB: 16 per instance, 160 in all), minimumHealthyPercent 50, maximumPercent 150:
//   ceiling = floor(150 × 100 / 100) = 150 tasks not STOPPED, floor = ceil(50 × 100 / 100) = 50
//   RUNNING-and-healthy; 160 places, so the ceiling always fits.
//
// The takeover, worked through. Let R be the leader's last renewal (its renewTime) and K the kill, so
// R ≤ K (and K − R ≤ retryPeriod plus one API round trip, as the leader renews every retryPeriod). The
// standby reads the Lease every retryPeriod and first sees R's record at O, with R < O ≤ R + retryPeriod
// (+ a round trip); it takes the Lease at its first attempt at or after O + leaseDuration. Hence:
//   - never early: acquireTime − R > leaseDuration = 15 s — the standby's acquireTime and the leader's
//     renewTime are written by two processes on this machine's one clock, so this is exact: there is no
//     moment with two leaders;
//   - within the lease time: acquireTime − K ≤ (O − K) + leaseDuration + retryPeriod ≤ 15 + 2 + 2 = 19 s,
//     plus the round trips of a busy machine's API server (5 s allowed): at most 24 s after the kill.
// While nobody leads, nothing acts on the service; the ledger checks the bounds through that gap too.
//
// What the rollout must show is what operator-kill-simulated.test.ts asserts (rollout-checks.ts): it
// converges (PRIMARY of the new revision COMPLETED, 100 tasks RUNNING); every observed Task state, the
// leaderless gap included, within the bounds above; the new deployment created exactly 100 tasks,
// ordinals 0..99, once each; every STOPPED task an old one, stopped by the service scheduler for the new
// deployment. And the replica that took over is the standby: the Lease names it, with one more transition.
//
// The kill point is a seeded-random number of Task events after the TaskDefinition change, in [0, 400):
// a rollout of 100 tasks makes about 800.
//
// Bounded: about 1 minute (15–19 s of it the lease running out).
import { seededRandom } from '../../../src/runtime/seeded-random';
import { kubectlOk } from '../../env/env';
import { waitFor, type CliProcess } from '../process/cli-process';
import { simulatedRolloutManifests, startFaultEnv, waitSteady, type FaultEnv } from './fault-env';
import { deploymentOf, expectCleanRollout } from './rollout-checks';
import { TaskLedger } from './task-ledger';

const seed = 8;
const desiredCount = 100;
const limits = { minimumHealthyPercent: 50, maximumPercent: 150 };
const killWindowEvents = 400;
/** leader-election.ts's defaults, which `berth operator --leader-elect` uses. */
const leaseDurationMs = 15_000;
const retryPeriodMs = 2_000;
const roundTripAllowanceMs = 5_000;
const takeoverBoundMs = leaseDurationMs + 2 * retryPeriodMs + roundTripAllowanceMs;
const timeoutMs = 120_000;

const manifests = simulatedRolloutManifests({ instances: 10, desiredCount, limits });

let env: FaultEnv;
let ledger: TaskLedger;
let leader: CliProcess;
let standby: CliProcess;
const random = seededRandom(seed);

/** The identity a replica campaigns with, from its log line 'attempting to acquire leader lease'. */
function identityOf(replica: CliProcess): string | undefined {
  for (const line of replica.stdout.split('\n')) {
    if (!line.includes('attempting to acquire leader lease')) continue;
    return (JSON.parse(line) as { identity?: string }).identity;
  }
  return undefined;
}

const microTimeMs = (time: string | undefined) => (time === undefined ? NaN : Date.parse(time));

async function steady(revision: string, detail: () => string): Promise<void> {
  await waitSteady(env, ledger, { revision, desiredCount, timeoutMs }, detail);
}

beforeAll(async () => {
  env = await startFaultEnv('fault-leader');
  ledger = new TaskLedger(env.namespace);
  await ledger.start();
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests);
}, timeoutMs);

afterAll(async () => {
  ledger?.stop();
  await env?.teardown();
}, 120_000);

test(
  'two replicas: the first leads and runs the service, the second stands by watching',
  async () => {
    leader = env.startOperator({ leaderElect: true });
    const leaderIdentity = await waitFor(
      () => identityOf(leader),
      "the first replica's identity",
      30_000,
      () => leader.tail(15),
    );
    await waitFor(
      async () => (await env.lease())?.spec?.holderIdentity === leaderIdentity,
      'the first replica to hold the Lease',
      30_000,
      () => leader.tail(15),
    );
    await steady('web:1', () => leader.tail(15));
    ledger.checkBounds({ desiredCount, ...limits });

    standby = env.startOperator({ leaderElect: true });
    // Standing by: it has read the Lease and seen who leads.
    await waitFor(
      () => standby.stdout.split('\n').some((line) => line.includes('observed a new leader') && line.includes(leaderIdentity)),
      'the second replica to see the leader',
      30_000,
      () => standby.tail(15),
    );
    expect((await env.lease())?.spec?.holderIdentity).toBe(leaderIdentity);
  },
  timeoutMs,
);

test(
  'SIGKILL of the leader mid-rollout: the standby takes over within the lease time and completes the rollout within the bounds, nothing duplicated',
  async () => {
    const previous = deploymentOf(ledger, 'web:1');
    const killAfterEvents = Math.floor(random() * killWindowEvents);
    const context = () => `seed ${seed}, leader killed after ${killAfterEvents} Task events\n--- standby ---\n${standby.tail(15)}`;
    const leaderIdentity = identityOf(leader)!;
    const standbyIdentity = identityOf(standby)!;
    const mark = ledger.events;

    await env.setEnvironment('web', '1');
    await ledger.until(() => ledger.events >= mark + killAfterEvents, `${killAfterEvents} Task events of the rollout to web:2`, timeoutMs);
    leader.signal('SIGKILL');
    const killedAt = Date.now();
    expect((await leader.waitForExit(10_000))?.signal).toBe('SIGKILL');
    const atKill = `${ledger.live('web:1').length} old and ${ledger.live('web:2').length} new tasks not STOPPED`;
    expect({ atKill, midRollout: ledger.live('web:1').length > 0 || ledger.live('web:2').length < desiredCount }).toEqual({ atKill, midRollout: true });
    // Nobody can have renewed it since: the record is the dead leader's last renewal.
    const lastRenewal = (await env.lease())!.spec!;
    expect(lastRenewal.holderIdentity).toBe(leaderIdentity);

    const takenOver = await waitFor(
      async () => {
        const lease = await env.lease();
        return lease?.spec?.holderIdentity === standbyIdentity ? lease.spec : undefined;
      },
      'the standby to take the Lease',
      takeoverBoundMs + 10_000,
      context,
      200,
    );
    const acquiredAt = microTimeMs(takenOver.acquireTime);
    const takeover = {
      afterLastRenewalMs: acquiredAt - microTimeMs(lastRenewal.renewTime),
      afterKillMs: acquiredAt - killedAt,
      transitions: takenOver.leaseTransitions,
    };
    expect(takeover).toEqual({
      afterLastRenewalMs: expect.any(Number),
      afterKillMs: expect.any(Number),
      transitions: (lastRenewal.leaseTransitions ?? 0) + 1,
    });
    expect(takeover.afterLastRenewalMs).toBeGreaterThan(leaseDurationMs);
    expect(takeover.afterKillMs).toBeLessThanOrEqual(takeoverBoundMs);

    await steady('web:2', context);
    const steadyAt = Date.now();
    expectCleanRollout(ledger, { previous, revision: 'web:2', desiredCount, replaced: new Set() });
    console.log(
      `leader-kill, seed ${seed}: leader killed after ${killAfterEvents} Task events (${atKill}); the standby took the Lease ` +
        `${(takeover.afterKillMs / 1000).toFixed(1)} s after the kill, ${(takeover.afterLastRenewalMs / 1000).toFixed(1)} s after the last renewal; ` +
        `steady ${((steadyAt - killedAt) / 1000).toFixed(1)} s after the kill; min healthy ${ledger.seen.minHealthy}, max not stopped ${ledger.seen.maxNotStopped}`,
    );
  },
  timeoutMs + 60_000,
);

test('a SIGTERM ends the new leader cleanly', async () => {
  standby.signal('SIGTERM');
  expect(await standby.waitForExit(20_000)).toEqual({ code: 0, signal: null });
});
