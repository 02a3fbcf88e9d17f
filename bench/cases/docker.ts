/**
 * docker: 50 tasks launched by Berth on the local Docker engine — `berth local`'s setup: the embedded
 * store, a managed node group of `provider: local` instances, in-process agents — from applying the
 * service until all 50 are RUNNING, against the same 50 containers (the very create options Berth's
 * Docker runtime builds, under other names) created and started directly with dockerode at the
 * agents' concurrency. Both use the environment's local test image with a command that sleeps.
 */
import type Dockerode from 'dockerode';
import { taskDefinitions, services as serviceType, tasks as taskType, validatorFor, type Task, type TaskDefinition } from '../../src/api';
import { containerCreateOptions, ecsCpuShares } from '../../src/agent/runtime/docker/container-spec';
import { taskLayout } from '../../src/agent/runtime/task-layout';
import type { TaskLaunch } from '../../src/agent/task-runtime';
import { memoryBackend } from '../support/backends';
import type { BenchCase, CaseContext } from '../support/bench-case';
import { removeContainersOf } from '../support/docker';
import { kubeEnvironment } from '../support/environment';
import { clusterName, controlPlaneFor, familyName, instancesFor, isRunning, provisionInstances } from '../support/fleet';
import { PredicateCount } from '../support/informer-counts';
import { serviceManifest, taskDefinitionManifest } from '../support/objects';
import { forEachConcurrently } from '../support/pool';
import { log, round } from '../support/report';

const fullTasks = 50;
const command = ['sleep', '3600'];

/** The same containers Berth would create for `count` tasks of `definition`, created and started directly. */
async function startDirectly(context: CaseContext, docker: Dockerode, definition: TaskDefinition, count: number, concurrency: number): Promise<number> {
  const namespace = `bench-docker-direct-${Date.now().toString(36)}`;
  context.owns({ namespace, on: 'docker' });
  context.defer(async () => {
    await removeContainersOf(docker, namespace);
  });
  const spec = validatorFor(taskDefinitions)!.applyDefaults(definition).spec;
  const layout = taskLayout(spec);
  const launches = Array.from({ length: count }, (_, i): TaskLaunch => ({
    taskUid: `${namespace}-${i}`,
    namespace,
    taskName: `direct-${i}`,
    cluster: clusterName,
    containerInstance: 'direct',
    taskDefinition: `${familyName}:1`,
    spec,
    resolvedEnvironment: {},
    registryAuth: {},
    publishAddress: '127.0.0.1',
  }));
  const started = performance.now();
  await forEachConcurrently(launches, concurrency, context.signal, async (launch) => {
    for (const container of spec.containerDefinitions) {
      const created = await docker.createContainer(
        containerCreateOptions({ launch, definition: container, layout, volumes: new Map(), cpuUnitsToShares: ecsCpuShares }),
      );
      await created.start();
    }
  });
  const elapsedMs = performance.now() - started;
  await removeContainersOf(docker, namespace);
  return elapsedMs;
}

export const dockerLaunch: BenchCase = {
  name: 'docker',
  timeoutMs: 10 * 60_000,
  run: async (context) => {
    const tasks = Math.max(1, Math.round(fullTasks * context.scale));
    const kube = await kubeEnvironment();
    const docker = kube.docker();
    const session = await memoryBackend.session(context);
    const namespace = await session.namespace('docker');
    context.owns({ namespace: namespace.name, on: 'docker' });
    // Cleanups run last first: this one runs after the control plane has stopped (removing its containers). Nothing may be left.
    context.defer(async () => {
      const leftovers = await removeContainersOf(docker, namespace.name);
      if (leftovers > 0) throw new Error(`${leftovers} containers of ${namespace.name} were left on the engine (removed now)`);
    });
    const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name, { docker });
    const definition = taskDefinitionManifest(namespace.name, familyName, { image: kube.env.testImage, command }) as TaskDefinition;
    const instances = instancesFor(tasks);
    await provisionInstances(session.client, plane, namespace.name, instances, context, 'local');
    // Each instance's agent runs its own workers: the engine sees at most that many task steps at once.
    const concurrency = instances * (await plane.workers(['agent']));

    log(`docker: baseline, ${tasks} containers created and started with dockerode at concurrency ${concurrency}`);
    const baselineMs = await startDirectly(context, docker, definition, tasks, concurrency);
    context.note({ baselineS: round(baselineMs / 1000, 3), concurrency });

    log(`docker: ${tasks} tasks by Berth`);
    const running = new PredicateCount(plane.manager.informerFor<Task>(taskType, namespace.name), isRunning);
    context.defer(() => running.stop());
    const started = performance.now();
    await session.client.create(taskDefinitions, definition);
    await session.client.create(
      serviceType,
      serviceManifest(namespace.name, 'sleepers', { cluster: clusterName, taskDefinition: familyName, desiredCount: tasks }),
    );
    await running.reaches(tasks, context.signal);
    const elapsedMs = performance.now() - started;
    return [
      {
        case: 'docker',
        value: round(elapsedMs / 1000, 3),
        unit: 's',
        baseline: round(baselineMs / 1000, 3),
        baselineIs: `the same ${tasks} containers created and started directly with dockerode at concurrency ${concurrency}`,
        target: { ratio: { op: '<=', limit: 1.25 } },
        details: { tasks, instances, concurrency, image: kube.env.testImage, command },
      },
    ];
  },
};
