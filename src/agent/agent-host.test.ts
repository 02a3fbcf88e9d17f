import { clusters, services, taskDefinitions, tasks as taskType, validatorFor, type ContainerInstance, type Service, type Task } from '../api';
import type { InstanceProviders } from '../ecs/instance-provider';
import { eventually } from '../runtime/eventually';
import { Manager } from '../runtime/manager';
import { silentLogger } from '../runtime/logger';
import { clusterManifest, serviceManifest, startControlPlane, taskDefinitionManifest, type ControlPlane } from '../testing/control-plane';
import { controllerRevisions } from '../store/builtin-types';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject, ObjectStore } from '../store/object-store';
import { AgentHost } from './agent-host';
import { SimulatedRuntime } from './runtime/simulated/simulated-runtime';
import type { TaskRuntime } from './task-runtime';

/** The in-process agents on the embedded store: per-instance isolation, and no launch failure from a cache miss. */

const ns = 'agents';
jest.setTimeout(30_000);

const taskDefinition = taskDefinitionManifest(ns, 'web', [{ name: 'web', image: 'web:1', memory: 256 }]);

/** Pulls that hang until the test ends them. */
const hangingPulls: (() => void)[] = [];

/** Simulated instances, except that on `blocked` every step of a task hangs, as an image pull that never ends. */
function providers(host: AgentHost, blocked: string): InstanceProviders {
  const hanging = (runtime: TaskRuntime): TaskRuntime => ({
    ...bindAll(runtime),
    ensureRunning: () => new Promise((_resolve, reject) => hangingPulls.push(() => reject(new Error('pull cancelled')))),
  });
  const simulated = {
    launch: (instance: ContainerInstance) => {
      const runtime = new SimulatedRuntime({ containerInstance: instance.metadata.name, pullMs: 1, startMs: 1 });
      return host.attach(instance, instance.metadata.name === blocked ? hanging(runtime) : runtime);
    },
    terminate: (name: string, namespace: string) => host.detach({ namespace, name }),
  };
  return { local: simulated, simulated };
}

function bindAll(runtime: TaskRuntime): TaskRuntime {
  return {
    ensureRunning: (launch) => runtime.ensureRunning(launch),
    stop: (uid, timeouts) => runtime.stop(uid, timeouts),
    remove: (uid) => runtime.remove(uid),
    observe: (uid) => runtime.observe(uid),
    list: () => runtime.list(),
    watch: (onChange) => runtime.watch(onChange),
    version: () => runtime.version(),
    ephemeralStorageUsed: (uid) => runtime.ephemeralStorageUsed(uid),
    usage: (uid) => runtime.usage(uid),
  };
}

test('an instance attached after the host stopped gets no agent: a controller still reconciling at shutdown starts nothing', async () => {
  const manager = new Manager({
    store: new MemoryStore({ validatorFor }),
    logger: silentLogger(),
    metricsServer: false,
    healthServer: false,
    leaderElection: false,
  });
  const host = new AgentHost({ manager });
  await host.stop();
  const runtime = new SimulatedRuntime({ containerInstance: 'late', pullMs: 1, startMs: 1 });
  let watched = false;
  const instance = { apiVersion: 'berth.dev/v1alpha1', kind: 'ContainerInstance', metadata: { name: 'late', namespace: ns, uid: 'u-1' } } as ContainerInstance;
  await host.attach(instance, {
    ...bindAll(runtime),
    watch: (onChange) => {
      watched = true;
      return runtime.watch(onChange);
    },
  });
  expect(watched).toBe(false);
});

describe('in-process agents', () => {
  const planes: ControlPlane[] = [];

  afterEach(async () => {
    hangingPulls.splice(0).forEach((cancel) => cancel());
    for (const plane of planes.splice(0)) await plane.stop();
  });

  function start(store: ObjectStore, blocked: string): Manager {
    const plane = startControlPlane(store, { agents: { statusReportIntervalMs: 100 }, providers: (host) => providers(host, blocked) });
    planes.push(plane);
    return plane.manager;
  }

  test('a task whose image pull never ends on one instance does not hold back the tasks of another', async () => {
    const store = new MemoryStore({ validatorFor });
    start(store, 'demo-general-0');
    // 4 tasks of 256 MiB fill an instance of 1024 MiB: first-fit puts 4 on each instance.
    await store.create(clusters, clusterManifest(ns, { instances: 2, memory: 1024 }));
    await store.create(taskDefinitions, taskDefinition);
    await store.create(services, serviceManifest(ns, 'web', { desiredCount: 8 }));

    const onInstance = async (instance: string) => (await store.list<Task>(taskType, ns)).items.filter((t) => t.spec.containerInstance === instance);
    await eventually(
      async () => (await onInstance('demo-general-1')).filter((t) => t.status?.lastStatus === 'RUNNING').length === 4,
      'the 4 tasks of the other instance RUNNING',
    );
    const hung = await onInstance('demo-general-0');
    expect(hung).toHaveLength(4);
    expect(hung.every((t) => t.status?.lastStatus !== 'RUNNING')).toBe(true);
  });

  test('a revision the cache does not hold yet is asked of the API server: the task is not failed for it', async () => {
    const store = new MemoryStore({ validatorFor });
    // The informers never see ControllerRevisions (as a cache still filling); a direct read finds them.
    const hidden: ObjectStore = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'list' && property !== 'watch') return value;
        return (type: unknown, ...rest: unknown[]) => {
          if (type === controllerRevisions && property === 'list') return Promise.resolve({ items: [], resourceVersion: '1' });
          if (type === controllerRevisions) return Promise.resolve({ stop: () => undefined });
          return (value as (...a: unknown[]) => unknown).call(target, type, ...rest);
        };
      },
    });
    const manager = start(hidden, 'none');
    await store.create(clusters, clusterManifest(ns, { instances: 1 }));
    await store.create(taskDefinitions, taskDefinition);
    await eventually(async () => (await store.list(controllerRevisions, ns)).items.length === 1, 'web:1 registered');
    // A task bound and admitted as if placed before a restart.
    await store.create(taskType, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name: 'survivor', namespace: ns, annotations: { 'berth.dev/admitted': 'true' } },
      spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: 'demo-general-0', desiredStatus: 'RUNNING' },
    } as KubeObject);

    const agentReconciles = async () => {
      const metric = await manager.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
      return metric.values.filter((v) => v.labels.controller === 'agent').reduce((sum, v) => sum + v.value, 0);
    };
    await eventually(async () => (await agentReconciles()) >= 3, 'the agent to look at the task a few times');
    const task = (await store.get<Task>(taskType, ns, 'survivor'))!;
    expect(task.status?.lastStatus).not.toBe('STOPPED');
    expect(task.status?.stopCode).toBeUndefined();
    expect((await store.list<Service>(services, ns)).items).toEqual([]);
  });
});
