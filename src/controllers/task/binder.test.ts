import { admittedAnnotation, clusters, taskDefinitions, tasks as taskType, validatorFor, type Task } from '../../api';
import { eventually } from '../../runtime/eventually';
import { controllerRevisions } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { CountingStore } from '../../store/testing/counting-store';
import { clusterManifest, startControlPlane, taskDefinitionManifest, type ControlPlane } from '../../testing/control-plane';

/**
 * The binder on the whole control plane, embedded store, simulated instances: where tasks are bound,
 * what they say while they wait, and what binding cost.
 */

const ns = 'binder';
jest.setTimeout(20_000);

describe('the binder', () => {
  let store: MemoryStore;
  let counting: CountingStore;
  let plane: ControlPlane;

  beforeEach(async () => {
    store = new MemoryStore({ validatorFor });
    counting = new CountingStore(store);
    plane = startControlPlane(counting.store, { simulated: { pullMs: 1, startMs: 1 } });
    await store.create(clusters, clusterManifest(ns, { instances: 2, memory: 1024 }));
    await store.create(taskDefinitions, taskDefinitionManifest(ns, 'web', [{ name: 'web', image: 'web:1', memory: 256 }]));
    await eventually(async () => (await store.list(controllerRevisions, ns)).items.length === 1, 'web:1 registered');
  });

  afterEach(() => plane.stop());

  const task = (name: string, spec: Record<string, unknown> = {}): KubeObject =>
    ({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name, namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'web:1', ...spec },
    }) as KubeObject;
  const get = async (name: string) => (await store.get<Task>(taskType, ns, name))!;

  test('binds a burst of tasks, one write each, filling the instances and no further', async () => {
    counting.reset();
    for (let i = 0; i < 10; i++) await store.create(taskType, task(`t${i}`));
    // 4 tasks of 256 MiB fit an instance of 1024 MiB: 8 bound, 2 wait.
    await eventually(async () => (await store.list<Task>(taskType, ns)).items.filter((t) => t.spec.containerInstance).length === 8, '8 tasks bound');
    const all = (await store.list<Task>(taskType, ns)).items;
    const perInstance = new Map<string, number>();
    for (const t of all) if (t.spec.containerInstance) perInstance.set(t.spec.containerInstance, (perInstance.get(t.spec.containerInstance) ?? 0) + 1);
    expect([...perInstance.values()]).toEqual([4, 4]);
    await eventually(
      async () => (await store.list<Task>(taskType, ns)).items.filter((t) => t.status?.conditions?.some((c) => c.reason === 'PlacementFailed')).length === 2,
      'the 2 others say why they wait',
    );
    expect(all.filter((t) => t.spec.containerInstance).every((t) => t.metadata.annotations?.[admittedAnnotation] === 'true')).toBe(true);
    const binds = counting.writes.filter((w) => w.resource === 'tasks.berth.dev' && w.verb === 'patch');
    expect(binds).toHaveLength(8);
    expect(binds.every((w) => w.outcome === 'ok')).toBe(true);
  });

  test('a task bound at creation waits for room on its instance, and is admitted once there is', async () => {
    for (let i = 0; i < 4; i++) await store.create(taskType, task(`fill${i}`, { containerInstance: 'demo-general-0' }));
    await eventually(async () => (await get('fill3')).metadata.annotations?.[admittedAnnotation] === 'true', 'the instance filled');
    await store.create(taskType, task('late', { containerInstance: 'demo-general-0' }));
    await eventually(
      async () =>
        (await get('late')).status?.conditions?.some(
          (c) =>
            c.message ===
            'no container instance met all of its requirements. The closest matching container-instance demo-general-0 has insufficient memory available. Of 1 instance: 1 insufficient memory.',
        ),
      'late waits',
    );
    expect((await get('late')).metadata.annotations?.[admittedAnnotation]).toBeUndefined();

    // One of the others stops: its room goes to the waiting task.
    await store.patch(taskType, ns, 'fill0', { spec: { desiredStatus: 'STOPPED' } });
    await eventually(async () => (await get('late')).metadata.annotations?.[admittedAnnotation] === 'true', 'late admitted');
  });

  test('a standalone task of a deregistered revision is refused (TaskFailedToStart); a missing one waits', async () => {
    await store.delete(controllerRevisions, ns, 'web-1');
    await store.create(taskType, task('too-late'));
    await store.create(taskType, task('too-early', { taskDefinition: 'web:7' }));
    await eventually(async () => (await get('too-late')).status?.lastStatus === 'STOPPED', 'too-late STOPPED');
    expect((await get('too-late')).status).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: expect.stringContaining('INACTIVE') });
    await eventually(async () => (await get('too-early')).status?.conditions?.some((c) => c.message === 'task definition web:7 not found'), 'too-early waits');
    expect((await get('too-early')).status?.lastStatus).toBe('PROVISIONING');
  });

  test('a task whose overrides name a container its task definition lacks is refused, and does not hold up the others', async () => {
    await store.create(taskType, task('bad', { overrides: { containerOverrides: [{ name: 'wbe', command: ['true'] }] } }));
    await store.create(taskType, task('good'));
    await eventually(async () => (await get('bad')).status?.lastStatus === 'STOPPED', 'bad STOPPED');
    expect((await get('bad')).status).toMatchObject({
      stopCode: 'TaskFailedToStart',
      stoppedReason: expect.stringContaining('overrides.containerOverrides[wbe]'),
    });
    await eventually(async () => (await get('good')).status?.lastStatus === 'RUNNING', 'good RUNNING');
  });

  test('a task deleted and created again under the same name (a service reusing a free ordinal) is placed again, not taken for the old one', async () => {
    await store.create(taskType, task('web-0'));
    await eventually(async () => (await get('web-0')).status?.lastStatus === 'RUNNING', 'the first web-0 RUNNING');
    const first = (await get('web-0')).metadata.uid;
    await store.delete(taskType, ns, 'web-0');
    await eventually(async () => (await store.get(taskType, ns, 'web-0')) === undefined, 'the first web-0 gone');
    await store.create(taskType, task('web-0'));
    const second = await get('web-0');
    expect(second.metadata.uid).not.toBe(first);
    await eventually(async () => (await get('web-0')).spec.containerInstance !== undefined, 'the second web-0 bound');
  });
});
