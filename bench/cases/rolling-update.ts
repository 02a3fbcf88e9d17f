/**
 * rolling-update: one service of 1,000 tasks with minimumHealthyPercent 50 / maximumPercent 200 rolls
 * out a new revision until its deployment is COMPLETED, through the real kube-apiserver. Every state
 * the tasks' watch shows is checked against the bounds (live ≤ 2,000, healthy ≥ 500); a violation
 * fails the case, whatever the time.
 *
 * Baseline: the writes such a rollout needs at the least — 1,000 new tasks created, bound, PENDING,
 * RUNNING, and 1,000 old tasks asked to stop and reported STOPPED — by a plain loop at the concurrency
 * the control plane wrote Tasks with during the rollout (its peak in flight), on the same API server
 * once the control plane has stopped: the time the store alone needs to carry the rollout, with no
 * decisions and no waiting on health in between.
 */
import { services as serviceType, taskDefinitions, tasks as taskType, type Service, type Task } from '../../src/api';
import { rollingBounds } from '../../src/controllers/service/deployment/rolling';
import { kubeBackend } from '../support/backends';
import type { BenchCase, CaseContext } from '../support/bench-case';
import { clusterName, controlPlaneFor, familyName, instancesFor, isSteady, provisionInstances, taskWriteConcurrency } from '../support/fleet';
import { PredicateCount } from '../support/informer-counts';
import { serviceManifest, taskDefinitionManifest } from '../support/objects';
import { createBaselineService, startTasksByPlainLoop, stopTasksByPlainLoop } from '../support/plain-loop';
import { RolloutBoundsWatcher } from '../support/rollout-bounds';
import { log, round } from '../support/report';

const fullTasks = 1_000;
const minimumHealthyPercent = 50;
const maximumPercent = 200;
const serviceName = 'web';

/** Steady on the new revision: the PRIMARY deployment of `taskDefinition` COMPLETED and no other deployment left. */
const completedOn = (taskDefinition: string) => (service: Service) =>
  isSteady(service) &&
  (service.status?.deployments ?? []).every(
    (d) => d.status === 'INACTIVE' || (d.status === 'PRIMARY' && d.taskDefinition === taskDefinition && d.rolloutState === 'COMPLETED'),
  );

async function baseline(context: CaseContext, tasks: number, concurrency: number): Promise<number> {
  const session = await kubeBackend.session(context);
  const namespace = await session.namespace('rolling-baseline');
  try {
    const service = await createBaselineService(session.client, namespace.name, serviceName);
    const old = await startTasksByPlainLoop({ store: session.client, service, deploymentId: 'old', count: tasks, concurrency, signal: context.signal });
    const started = performance.now();
    await startTasksByPlainLoop({ store: session.client, service, deploymentId: 'new', count: tasks, concurrency, signal: context.signal });
    await stopTasksByPlainLoop(session.client, old, concurrency, context.signal);
    return performance.now() - started;
  } finally {
    await namespace.release();
  }
}

export const rollingUpdate: BenchCase = {
  name: 'rolling-update',
  timeoutMs: 30 * 60_000,
  run: async (context) => {
    const tasks = Math.max(2, Math.round(fullTasks * context.scale));
    const bounds = rollingBounds(tasks, minimumHealthyPercent, maximumPercent);
    const session = await kubeBackend.session(context);
    const namespace = await session.namespace('rolling');
    const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name);

    // Room for the surge: the ceiling's worth of tasks must fit at once.
    await provisionInstances(session.client, plane, namespace.name, instancesFor(bounds.ceiling), context);
    const serviceInformer = plane.manager.informerFor<Service>(serviceType, namespace.name);
    const taskInformer = plane.manager.informerFor<Task>(taskType, namespace.name);

    log(`rolling-update: ${tasks} tasks of revision 1`);
    const onFirst = new PredicateCount(serviceInformer, completedOn(`${familyName}:1`));
    await session.client.create(taskDefinitions, taskDefinitionManifest(namespace.name, familyName, { image: 'bench/app:1' }, '1'));
    await session.client.create(
      serviceType,
      serviceManifest(namespace.name, serviceName, {
        cluster: clusterName,
        taskDefinition: familyName,
        desiredCount: tasks,
        minimumHealthyPercent,
        maximumPercent,
      }),
    );
    await onFirst.reaches(1, context.signal);
    onFirst.stop();

    log(`rolling-update: rolling out revision 2 (bounds: live ≤ ${bounds.ceiling}, healthy ≥ ${bounds.floor})`);
    const watcher = new RolloutBoundsWatcher(taskInformer, serviceName, bounds);
    const onSecond = new PredicateCount(serviceInformer, completedOn(`${familyName}:2`));
    context.defer(() => {
      watcher.stop();
      onSecond.stop();
    });
    taskWriteConcurrency(plane);
    const started = performance.now();
    const current = (await session.client.get<Task>(taskDefinitions, namespace.name, familyName))!;
    await session.client.update(taskDefinitions, {
      ...current,
      ...taskDefinitionManifest(namespace.name, familyName, { image: 'bench/app:2' }, '2'),
      metadata: current.metadata,
    });
    await onSecond.reaches(1, context.signal);
    const elapsedMs = performance.now() - started;
    const written = taskWriteConcurrency(plane);
    context.note({ rolloutS: round(elapsedMs / 1000), taskWriteConcurrency: written });

    const report = watcher.result();
    if (report.violationCount > 0) {
      context.note({ bounds: report });
      throw new Error(
        `DEPLOYMENT BOUNDS VIOLATED in ${report.violationCount} of ${report.states} observed states, first: ${report.violations.slice(0, 3).join('; ')}`,
      );
    }

    // The floor runs alone: the control plane stopped (its objects stay until the case's cleanup).
    watcher.stop();
    await plane.stop();
    const concurrency = Math.max(1, written.peak);
    log(`rolling-update: baseline, ${tasks} new tasks started and ${tasks} old stopped by a plain loop at concurrency ${concurrency}`);
    const baselineMs = await baseline(context, tasks, concurrency);
    return [
      {
        case: 'rolling-update',
        value: round(elapsedMs / 1000),
        unit: 's',
        baseline: round(baselineMs / 1000),
        baselineIs: `${tasks} new tasks started and ${tasks} old stopped by a plain loop at concurrency ${concurrency} (the control plane's peak of Task writes in flight)`,
        target: { value: { op: '<=', limit: 30 } },
        details: {
          tasks,
          minimumHealthyPercent,
          maximumPercent,
          ...bounds,
          observedStates: report.states,
          maxLive: report.maxLive,
          minHealthy: report.minHealthy,
          taskWriteConcurrency: { peak: written.peak, mean: round(written.mean, 1) },
        },
      },
    ];
  },
};
