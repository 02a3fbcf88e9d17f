/**
 * api-economy: what the control plane costs the API server, counted by wrapping the store it writes
 * through (its writes only; the bench's own are made with another client). Through the real
 * kube-apiserver, with 1,000 simulated instances:
 *
 * - writes to Task objects per task, from the service's creation to the task RUNNING (1,000 tasks in
 *   20 services); baseline: the plain loop's writes per task (create, bind, PENDING, RUNNING), counted
 *   by the same wrapper;
 * - 409s (Conflict and AlreadyExists) among all the control plane's writes over the same span;
 * - writes per second once everything has converged and nothing changes, over one minute: ideally
 *   only lease renewals, one per instance per renewal interval (each agent renews its instance's
 *   heartbeat Lease every 10 s and writes instance status only on change), so the baseline is
 *   instances / 10 s, computed rather than measured.
 */
import { tasks as taskType } from '../../src/api';
import { memoryBackend, kubeBackend } from '../support/backends';
import type { BenchCase, CaseContext } from '../support/bench-case';
import { breakdown, CountingStore, ofResource, totalOf } from '../support/counting-store';
import { applyAndConverge, controlPlaneFor, provisionInstances, scaledFleet } from '../support/fleet';
import { createBaselineService, startTasksByPlainLoop } from '../support/plain-loop';
import { log, round } from '../support/report';

const fullInstances = 1_000;
const fullFleet = { tasks: 1_000, services: 20 };
const renewalIntervalMs = 10_000;
const idleWindowMs = 60_000;

const isTaskWrite = ofResource(taskType);

/** Writes per task of the plain loop, counted by the same wrapper (on the embedded store: a count does not depend on the store). */
async function baselineWritesPerTask(context: CaseContext, tasks: number): Promise<number> {
  const session = await memoryBackend.session(context);
  const counting = new CountingStore(session.client);
  const namespace = await session.namespace('economy-baseline');
  const service = await createBaselineService(session.client, namespace.name, 'svc-0');
  await startTasksByPlainLoop({ store: counting, service, deploymentId: 'baseline', count: tasks, concurrency: 1, signal: context.signal });
  return totalOf(counting.takeCounts(), isTaskWrite).writes / tasks;
}

export const apiEconomy: BenchCase = {
  name: 'api-economy',
  timeoutMs: 40 * 60_000,
  run: async (context) => {
    const instances = Math.max(1, Math.round(fullInstances * context.scale));
    const fleet = scaledFleet(fullFleet, context.scale);
    const baselineWrites = await baselineWritesPerTask(context, fleet.tasks);

    const session = await kubeBackend.session(context);
    const namespace = await session.namespace('economy');
    const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name, { leaseRenewIntervalMs: renewalIntervalMs });
    log(`api-economy: ${instances} simulated instances`);
    await provisionInstances(session.client, plane, namespace.name, instances, context);
    plane.store.takeCounts();

    log(`api-economy: ${fleet.tasks} tasks in ${fleet.services} services`);
    await applyAndConverge(session.client, plane, namespace.name, fleet, context);
    const converging = plane.store.takeCounts();
    const taskWrites = totalOf(converging, isTaskWrite);
    const all = totalOf(converging);
    const conflicts = all.conflicts + all.alreadyExists;
    context.note({ convergence: breakdown(converging) });

    const windowMs = Math.max(2 * renewalIntervalMs, idleWindowMs * context.scale);
    log(`api-economy: idle for ${windowMs / 1000} s`);
    const idleStarted = performance.now();
    // A measuring window, not a wait for anything to settle: writes are counted over exactly this span.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, windowMs);
      context.signal.addEventListener('abort', () => (clearTimeout(timer), reject(context.signal.reason as Error)), { once: true });
    });
    const idle = plane.store.takeCounts();
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const expectedIdle = instances / (renewalIntervalMs / 1000);

    const common = { instances, tasks: fleet.tasks, services: fleet.services };
    return [
      {
        case: 'api-economy/writes-per-task',
        value: round(taskWrites.writes / fleet.tasks),
        unit: 'writes/task',
        baseline: round(baselineWrites),
        baselineIs: 'writes per task of the plain loop (create, bind, PENDING, RUNNING)',
        target: { value: { op: '<=', limit: 4 } },
        details: { ...common, allWritesPerTask: round(all.writes / fleet.tasks), writes: breakdown(converging) },
      },
      {
        case: 'api-economy/conflicts',
        value: round((conflicts / all.writes) * 100, 3),
        unit: '% of writes',
        baseline: 0,
        baselineIs: 'the plain loop never conflicts',
        target: { value: { op: '<', limit: 1 } },
        details: {
          ...common,
          writes: all.writes,
          conflicts: all.conflicts,
          alreadyExists: all.alreadyExists,
          taskConflicts: taskWrites.conflicts + taskWrites.alreadyExists,
        },
      },
      {
        case: 'api-economy/idle-writes',
        value: round(totalOf(idle).writes / idleSeconds),
        unit: 'writes/s',
        baseline: expectedIdle,
        baselineIs: `lease renewals only: ${instances} instances / ${renewalIntervalMs / 1000} s (computed)`,
        target: { ratio: { op: '<=', limit: 1.1 } },
        details: { ...common, windowS: round(idleSeconds), writes: breakdown(idle) },
      },
    ];
  },
};
