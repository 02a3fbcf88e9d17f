/**
 * The convergence scenario every scale case shares: a cluster of simulated instances, then one task
 * definition and N REPLICA services applied at once, converged until every task is RUNNING and every
 * service reports a steady state; and the plain-loop baseline of the same tasks.
 */
import {
  clusters,
  containerInstances,
  services as serviceType,
  taskDefinitions,
  tasks as taskType,
  type ContainerInstance,
  type Service,
  type Task,
} from '../../src/api';
import type { ObjectStore } from '../../src/store/object-store';
import type { Backend } from './backends';
import type { CaseContext } from './bench-case';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane';
import type { Concurrency } from './counting-store';
import { PredicateCount } from './informer-counts';
import { clusterManifest, serviceManifest, taskDefinitionManifest, tasksPerInstance } from './objects';
import { createBaselineService, startTasksByPlainLoop } from './plain-loop';
import { log } from './report';

export interface FleetSize {
  tasks: number;
  services: number;
}

/** The fleet at a fraction of its size, keeping whole tasks per service. */
export function scaledFleet(size: FleetSize, scale: number): FleetSize {
  return { services: size.services, tasks: size.services * Math.max(1, Math.round((size.tasks / size.services) * scale)) };
}

export const clusterName = 'bench';
export const familyName = 'app';

export const instancesFor = (tasks: number) => Math.ceil(tasks / tasksPerInstance);

export const isRunning = (task: Task) => task.status?.lastStatus === 'RUNNING';
export const isConnected = (instance: ContainerInstance) => instance.status?.agentConnected === true;
/** Ready=True for the current generation: the service has reached a steady state for its latest spec. */
export const isSteady = (service: Service) =>
  service.status?.observedGeneration === service.metadata.generation &&
  (service.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === service.metadata.generation);

/** The control plane on a session's store, watching `namespace`, stopped when the case ends. */
export function controlPlaneFor(
  context: CaseContext,
  store: ObjectStore,
  namespace: string,
  extra: Pick<ControlPlaneOptions, 'leaseRenewIntervalMs' | 'configure' | 'docker' | 'nodes'> = {},
): ControlPlane {
  const plane = startControlPlane({
    store,
    namespace,
    // Simulated containers pull and start at once: the bench measures the control plane, not a simulated engine's delays.
    simulated: { pullMs: 0, startMs: 0 },
    ...extra,
  });
  context.defer(() => plane.stop());
  return plane;
}

/** What a long wait reports: a line on stderr every 10 s, and the same figures noted for the case's error line. */
export interface Progress {
  signal: AbortSignal;
  note: CaseContext['note'];
}

/** Calls `report` every 10 s until the returned function is called. */
function every10s(report: (elapsedS: number) => void): () => void {
  const started = performance.now();
  const timer = setInterval(() => report(Math.round((performance.now() - started) / 1000)), 10_000);
  return () => clearInterval(timer);
}

/** Applies the cluster and waits until all its instances' agents have reported in; resolves with the time it took. */
export async function provisionInstances(
  client: ObjectStore,
  plane: ControlPlane,
  namespace: string,
  instances: number,
  { signal, note }: Progress,
  provider: 'simulated' | 'local' = 'simulated',
): Promise<number> {
  const connected = new PredicateCount(plane.manager.informerFor<ContainerInstance>(containerInstances, namespace), isConnected);
  const stopReporting = every10s((elapsedS) => {
    log(`  ${connected.count}/${instances} instances connected`);
    note({ provisioning: { elapsedS, instancesConnected: connected.count, instances } });
  });
  const started = performance.now();
  try {
    await client.create(clusters, clusterManifest(namespace, clusterName, instances, provider));
    await connected.reaches(instances, signal);
    return performance.now() - started;
  } finally {
    stopReporting();
    connected.stop();
  }
}

export interface Convergence {
  /** From applying the task definition and services until every task RUNNING and every service steady. */
  elapsedMs: number;
  /** When the last task turned RUNNING (services report steady a little later). */
  tasksRunningMs: number;
  /** Reconciles per controller and result until then: errors are mostly 409s, each retried through the rate limiter. */
  reconciles: Record<string, Record<string, number>>;
}

/** Applies the task definition and `size.services` services sharing `size.tasks`, and waits for convergence. */
export async function applyAndConverge(
  client: ObjectStore,
  plane: ControlPlane,
  namespace: string,
  size: FleetSize,
  { signal, note }: Progress,
): Promise<Convergence> {
  const tasks = plane.manager.informerFor<Task>(taskType, namespace);
  const running = new PredicateCount(tasks, isRunning);
  const steady = new PredicateCount(plane.manager.informerFor<Service>(serviceType, namespace), isSteady);
  const stopReporting = every10s((elapsedS) => {
    log(`  ${tasks.list().length} tasks, ${running.count}/${size.tasks} RUNNING, ${steady.count}/${size.services} services steady`);
    const progress = { elapsedS, tasksCreated: tasks.list().length, tasksRunning: running.count, servicesSteady: steady.count, of: size };
    void plane.reconciles().then((reconciles) => note({ converging: { ...progress, reconciles } }));
  });
  const started = performance.now();
  try {
    await client.create(taskDefinitions, taskDefinitionManifest(namespace, familyName, { image: 'bench/app:1' }));
    const perService = size.tasks / size.services;
    for (let i = 0; i < size.services; i++) {
      await client.create(serviceType, serviceManifest(namespace, `svc-${i}`, { cluster: clusterName, taskDefinition: familyName, desiredCount: perService }));
    }
    await running.reaches(size.tasks, signal);
    const tasksRunningMs = performance.now() - started;
    await steady.reaches(size.services, signal);
    return { elapsedMs: performance.now() - started, tasksRunningMs, reconciles: await plane.reconciles() };
  } finally {
    stopReporting();
    running.stop();
    steady.stop();
  }
}

export interface Baseline {
  elapsedMs: number;
  concurrency: number;
}

/**
 * The floor of `tasks` tasks on `backend`: a plain loop at the concurrency the control plane wrote
 * tasks with (`taskWriteConcurrency`), in a namespace of its own, run once the control plane has
 * stopped, so the two never share the store.
 */
export async function plainLoopBaseline(context: CaseContext, backend: Backend, tasks: number, concurrency: number): Promise<Baseline> {
  const session = await backend.session(context);
  const namespace = await session.namespace('baseline');
  try {
    const service = await createBaselineService(session.client, namespace.name, 'svc-0');
    let running = 0;
    const stopReporting = every10s((elapsedS) => {
      log(`  baseline: ${running}/${tasks} tasks RUNNING`);
      context.note({ baselineProgress: { elapsedS, tasksRunning: running, tasks } });
    });
    const started = performance.now();
    try {
      const onRunning = (done: number) => (running = done);
      await startTasksByPlainLoop({ store: session.client, service, deploymentId: 'baseline', count: tasks, concurrency, signal: context.signal, onRunning });
      return { elapsedMs: performance.now() - started, concurrency };
    } finally {
      stopReporting();
    }
  } finally {
    await namespace.release();
  }
}

/**
 * The concurrency the control plane wrote Task objects with since the last call: the peak of Task
 * writes in flight at once, as the counting store saw them (service creates, the binder's parallel
 * bindings and every instance agent's status reports add up; no worker count says it). The baseline
 * loop holds that many writes in flight throughout; the mean is reported beside it.
 */
export function taskWriteConcurrency(plane: ControlPlane): Concurrency {
  return plane.store.takeConcurrency(taskType);
}
