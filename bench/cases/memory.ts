/**
 * memory: the operator's heap per cached Task at 10,000 tasks (1,000 simulated instances, 20
 * services), through the real kube-apiserver so that the process holds the operator and nothing of
 * the store. Heap after convergence minus heap before the services were applied (instances already
 * up), each after a forced full GC, divided by the tasks in the operator's cache.
 *
 * Baseline: the heap per task of a bare shared informer over the same tasks, started afterwards in
 * the same process — one cached copy of each Task, the least any controller that watches tasks holds.
 *
 * Convergence gets a deadline of its own: past it, the heap is measured as it stands (the line says
 * so), since what is cached then is still 10,000 tasks' worth of state.
 */
import { tasks as taskType, type Task } from '../../src/api';
import { SharedInformer } from '../../src/runtime/informer';
import { kubeBackend } from '../support/backends';
import type { BenchCase } from '../support/bench-case';
import { applyAndConverge, controlPlaneFor, instancesFor, provisionInstances, scaledFleet } from '../support/fleet';
import { log, round } from '../support/report';

const fullFleet = { tasks: 10_000, services: 20 };
const convergeWithinMs = 15 * 60_000;

/** Heap in use after full collections (run with --expose-gc, as `npm run bench` does). */
function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the memory case needs node --expose-gc (npm run bench passes it)');
  // Twice: the first pass can leave finalizable objects for the second.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export const memory: BenchCase = {
  name: 'memory',
  timeoutMs: 45 * 60_000,
  run: async (context) => {
    const fleet = scaledFleet(fullFleet, context.scale);
    const session = await kubeBackend.session(context);
    const namespace = await session.namespace('memory');
    const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name);
    log(`memory: ${instancesFor(fleet.tasks)} simulated instances`);
    await provisionInstances(session.client, plane, namespace.name, instancesFor(fleet.tasks), context);

    const before = settledHeap();
    log(`memory: ${fleet.tasks} tasks in ${fleet.services} services`);
    const deadline = AbortSignal.timeout(convergeWithinMs * Math.max(0.1, context.scale));
    const converged = await applyAndConverge(session.client, plane, namespace.name, fleet, {
      signal: AbortSignal.any([context.signal, deadline]),
      note: context.note,
    }).then(
      () => true,
      (error: unknown) => {
        if (!deadline.aborted || context.signal.aborted) throw error;
        return false;
      },
    );
    const taskInformer = plane.manager.informerFor<Task>(taskType, namespace.name);
    const cached = taskInformer.list().length;
    const running = taskInformer.list().filter((t) => t.status?.lastStatus === 'RUNNING').length;
    const after = settledHeap();

    // One more cache of the same tasks, on a client of its own: what a bare informer holds per task.
    const bare = new SharedInformer<Task>(session.client, taskType, { namespace: namespace.name });
    bare.start();
    context.defer(() => bare.stop());
    await bare.waitForSync(context.signal);
    const withBare = settledHeap();
    const bareCached = bare.list().length;

    const perTaskKiB = (after - before) / cached / 1024;
    const bareKiB = (withBare - after) / bareCached / 1024;
    return [
      {
        case: 'memory',
        value: round(perTaskKiB),
        unit: 'KiB/task',
        baseline: round(bareKiB),
        baselineIs: 'heap per task of a bare shared informer caching the same tasks',
        target: { value: { op: '<=', limit: 20 } },
        details: {
          tasks: fleet.tasks,
          cachedTasks: cached,
          runningTasks: running,
          converged,
          heapBeforeMiB: round(before / 2 ** 20),
          heapAfterMiB: round(after / 2 ** 20),
        },
      },
    ];
  },
};
