/**
 * growth: the convergence scenario at 1k, 2k, 5k and 10k tasks (20 services, instances scaled to
 * match at 10 tasks each), each on a fresh embedded store and control plane. A control plane whose
 * work per task does not depend on how many tasks exist converges in time proportional to the task
 * count, so the time per task stays flat; value: the per-task time at 10k, baseline: at 1k.
 *
 * It runs on the embedded store on purpose: the API server's own cost per write is about constant,
 * so it would only add the same amount to every size (and, on a shared two-core machine, hours to
 * the run); the embedded store leaves the control plane's own scaling in view. convergence/kube-apiserver
 * gives the 10k point through the real API server.
 */
import { memoryBackend } from '../support/backends';
import type { BenchCase } from '../support/bench-case';
import { applyAndConverge, controlPlaneFor, instancesFor, provisionInstances, scaledFleet } from '../support/fleet';
import { log, round } from '../support/report';

const sizes = [1_000, 2_000, 5_000, 10_000];
const serviceCount = 20;

export const growth: BenchCase = {
  name: 'growth',
  timeoutMs: 30 * 60_000,
  run: async (context) => {
    const perTaskMs: Record<number, number> = {};
    /** Failed reconciles (409s, mostly) per task at each size: each costs a retry through the rate limiter. */
    const failedReconcilesPerTask: Record<number, number> = {};
    for (const full of sizes) {
      const size = scaledFleet({ tasks: full, services: serviceCount }, context.scale);
      const session = await memoryBackend.session(context);
      const namespace = await session.namespace('growth');
      const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name);
      try {
        log(`growth: ${size.tasks} tasks on ${instancesFor(size.tasks)} instances`);
        await provisionInstances(session.client, plane, namespace.name, instancesFor(size.tasks), context);
        const converged = await applyAndConverge(session.client, plane, namespace.name, size, context);
        perTaskMs[size.tasks] = round(converged.elapsedMs / size.tasks, 3);
        const failed = Object.values(converged.reconciles).reduce((sum, results) => sum + (results.error ?? 0), 0);
        failedReconcilesPerTask[size.tasks] = round(failed / size.tasks);
        context.note({ perTaskMs, failedReconcilesPerTask });
        log(`growth: ${size.tasks} tasks in ${round(converged.elapsedMs / 1000)} s, ${perTaskMs[size.tasks]} ms per task`);
      } finally {
        await plane.stop();
      }
    }
    const measured = Object.keys(perTaskMs).map(Number);
    const smallest = Math.min(...measured);
    const largest = Math.max(...measured);
    return [
      {
        case: 'growth',
        value: perTaskMs[largest],
        unit: 'ms/task',
        baseline: perTaskMs[smallest],
        baselineIs: `convergence time per task at ${smallest} tasks (value: at ${largest})`,
        target: { ratio: { op: '<=', limit: 1.3 } },
        details: { store: 'memory', services: serviceCount, perTaskMs, failedReconcilesPerTask },
      },
    ];
  },
};
