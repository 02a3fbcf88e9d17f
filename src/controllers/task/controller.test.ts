import { admittedAnnotation, clusters, containerInstances, tasks as taskType, validatorFor, type ContainerInstance, type Task } from '../../api';
import { FakeClock, settle } from '../../runtime/clock';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import { silentLogger } from '../../runtime/logger';
import { Manager } from '../../runtime/manager';
import { MemoryStore } from '../../store/memory/memory-store';
import { clusterManifest } from '../../testing/control-plane';
import type { KubeObject } from '../../store/object-store';
import { addTaskController, TaskReconciler } from './controller';

// The tasks of a disconnected instance, as the task controller treats them: admitted ones are STOPPED once
// the grace after the last heartbeat has passed; a task bound there but never admitted waits for the agent.

const ns = 'hosts';
const grace = 4_000;
const lastHeartbeat = '2026-01-01T12:00:00Z';
const context = { log: silentLogger(), reconcileID: 'test', signal: new AbortController().signal };
const events = { event: () => Promise.resolve() } as unknown as EventRecorder;

async function setUp(options: { admitted: boolean; connected: boolean }) {
  const store = new MemoryStore({ validatorFor });
  const instance = await store.create<ContainerInstance>(containerInstances, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: 'edge-a', namespace: ns },
    spec: { cluster: 'prod', registeredResources: { cpu: 1024, memory: 1024 }, status: 'ACTIVE' },
  });
  const reported = await store.updateStatus<ContainerInstance>(containerInstances, {
    ...instance,
    status: { status: 'ACTIVE', agentConnected: options.connected, lastHeartbeatTime: lastHeartbeat },
  });
  const created = await store.create<Task>(taskType, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'web-1', namespace: ns, ...(options.admitted ? { annotations: { [admittedAnnotation]: 'true' } } : {}) },
    spec: { cluster: 'prod', taskDefinition: 'web:1', containerInstance: 'edge-a', group: 'service:web', desiredStatus: 'RUNNING' },
  });
  const task = options.admitted
    ? await store.updateStatus<Task>(taskType, { ...created, status: { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' } })
    : created;
  const cacheOf = <T extends KubeObject>(object: T) => ({ get: () => object }) as unknown as SharedInformer<T>;
  const reconcilerAt = (iso: string) =>
    new TaskReconciler({ store, events, tasks: cacheOf(task), instances: cacheOf(reported), disconnectedInstanceGraceMs: grace, now: () => new Date(iso) });
  const stored = async () => (await store.get<Task>(taskType, ns, 'web-1'))!;
  return { reconcilerAt, stored, before: task };
}

const key = { namespace: ns, name: 'web-1' };

test('an admitted task on a disconnected instance waits out the grace, then is STOPPED with the reason', async () => {
  const { reconcilerAt, stored, before } = await setUp({ admitted: true, connected: false });
  expect(await reconcilerAt('2026-01-01T12:00:03Z').reconcile(key, context)).toEqual({ requeueAfterMs: 1_000 });
  expect((await stored()).status).toEqual(before.status);

  await reconcilerAt('2026-01-01T12:00:04Z').reconcile(key, context);
  expect((await stored()).status).toMatchObject({
    lastStatus: 'STOPPED',
    stopCode: 'TerminationNotice',
    stoppedReason: `Task stopped because container instance edge-a is disconnected: its agent last reported at ${lastHeartbeat}, more than 4s ago`,
  });
});

test('a task bound to a disconnected instance but never admitted waits for the agent', async () => {
  const { reconcilerAt, stored, before } = await setUp({ admitted: false, connected: false });
  expect(await reconcilerAt('2026-01-01T13:00:00Z').reconcile(key, context)).toBeUndefined();
  expect((await stored()).status).toEqual(before.status);
});

test('the tasks of a connected instance are left alone', async () => {
  const { reconcilerAt, stored, before } = await setUp({ admitted: true, connected: true });
  expect(await reconcilerAt('2026-01-01T13:00:00Z').reconcile(key, context)).toBeUndefined();
  expect((await stored()).status).toEqual(before.status);
});

describe('the scheduler controller on an injected clock', () => {
  // No instance at all: a task waits, and the clock moves only when the test moves it, so "nothing else
  // would have woken the binder" holds by construction.
  let store: MemoryStore;
  let clock: FakeClock;
  let manager: Manager;
  let running: Promise<void>;

  beforeEach(() => {
    store = new MemoryStore({ validatorFor });
    clock = new FakeClock(Date.parse('2026-01-01T12:00:00Z'));
    manager = new Manager({ store, clock, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
    addTaskController(manager, { namespace: ns });
    running = manager.start();
  });

  afterEach(async () => {
    await manager.stop();
    await running;
  });

  const awaiting = async () => (await manager.registry.getSingleMetric('berth_tasks_awaiting_placement')!.get()).values;
  /** Past the binder's 100 ms batching window, as many times as its own writes wake it. */
  async function quiesce() {
    for (let i = 0; i < 5; i++) {
      await clock.advance(100);
      await settle();
    }
  }

  test('the last waiting task deleted: what awaits placement reads 0; the cluster deleted, its series go', async () => {
    await store.create(clusters, clusterManifest(ns, { name: 'prod', instances: 0 }));
    await store.create(taskType, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name: 'lonely', namespace: ns },
      spec: { cluster: 'prod', taskDefinition: 'web:1' },
    } as KubeObject);
    await quiesce();
    expect((await awaiting()).map((v) => v.value)).toEqual([1]);
    await store.delete(taskType, ns, 'lonely');
    await quiesce();
    expect((await awaiting()).map((v) => v.value)).toEqual([0]);
    await store.delete(clusters, ns, 'prod');
    await quiesce();
    expect(await awaiting()).toEqual([]);
  });
});
