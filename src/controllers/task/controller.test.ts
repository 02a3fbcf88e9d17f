import { admittedAnnotation, containerInstances, tasks as taskType, validatorFor, type ContainerInstance, type Task } from '../../api';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import { silentLogger } from '../../runtime/logger';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { TaskReconciler } from './controller';

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
