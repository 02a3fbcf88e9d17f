/**
 * convergence: 1,000 simulated instances, 10,000 tasks in 20 REPLICA services, from applying the task
 * definition and services until every task is RUNNING and every service steady. Baseline: the same
 * 10,000 Task objects created, bound and reported PENDING then RUNNING by a plain loop at the
 * concurrency the control plane wrote Tasks with (its peak of Task writes in flight), on the same
 * store once the control plane has stopped — the store's floor.
 */
import { memoryBackend, kubeBackend, type Backend } from '../support/backends';
import { tasks } from '../../src/api';
import type { BenchCase } from '../support/bench-case';
import { breakdown, ofResource, totalOf } from '../support/counting-store';
import {
  applyAndConverge,
  controlPlaneFor,
  instancesFor,
  plainLoopBaseline,
  provisionInstances,
  scaledFleet,
  taskWriteConcurrency,
  type FleetSize,
} from '../support/fleet';
import { log, round } from '../support/report';

const fullSize: FleetSize = { tasks: 10_000, services: 20 };

function convergenceCase(backend: Backend, timeoutMs: number): BenchCase {
  const name = `convergence/${backend.name}`;
  return {
    name,
    timeoutMs,
    run: async (context) => {
      const size = scaledFleet(fullSize, context.scale);
      const session = await backend.session(context);
      const namespace = await session.namespace('converge');
      const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name);

      const instances = instancesFor(size.tasks);
      log(`${name}: ${instances} simulated instances`);
      const provisionMs = await provisionInstances(session.client, plane, namespace.name, instances, context);
      context.note({ instancesReadyS: round(provisionMs / 1000) });

      log(`${name}: ${size.tasks} tasks in ${size.services} services`);
      plane.store.takeCounts();
      taskWriteConcurrency(plane);
      const converged = await applyAndConverge(session.client, plane, namespace.name, size, context);
      const writes = plane.store.takeCounts();
      const written = taskWriteConcurrency(plane);
      const all = totalOf(writes);
      const measured = { convergedS: round(converged.elapsedMs / 1000), taskWriteConcurrency: { peak: written.peak, mean: round(written.mean, 1) } };
      context.note(measured);

      // The floor runs alone: the control plane stopped (its objects stay until the case's cleanup, so the
      // namespace controller's deletions do not share the store with the baseline either).
      await plane.stop();
      const concurrency = Math.max(1, written.peak);
      log(`${name}: baseline, ${size.tasks} tasks by a plain loop at concurrency ${concurrency}`);
      const baseline = await plainLoopBaseline(context, backend, size.tasks, concurrency);
      return [
        {
          case: name,
          value: round(converged.elapsedMs / 1000),
          unit: 's',
          baseline: round(baseline.elapsedMs / 1000),
          baselineIs: `the same ${size.tasks} tasks created, bound, PENDING, RUNNING by a plain loop at concurrency ${concurrency} (the control plane's peak of Task writes in flight)`,
          target: { value: { op: '<=', limit: 60 }, ratio: { op: '<=', limit: 1.5 } },
          details: {
            tasks: size.tasks,
            services: size.services,
            instances,
            tasksRunningS: round(converged.tasksRunningMs / 1000),
            instancesReadyS: round(provisionMs / 1000),
            taskWriteConcurrency: measured.taskWriteConcurrency,
            reconciles: converged.reconciles,
            taskWritesPerTask: round(totalOf(writes, ofResource(tasks)).writes / size.tasks),
            conflictPercent: round(((all.conflicts + all.alreadyExists) / all.writes) * 100),
            writes: breakdown(writes),
          },
        },
      ];
    },
  };
}

export const convergenceOnKube = convergenceCase(kubeBackend, 60 * 60_000);
export const convergenceOnMemory = convergenceCase(memoryBackend, 20 * 60_000);
