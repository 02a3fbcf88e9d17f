import { services, taskDefinitions, validatorFor, type TaskDefinition } from '../../api';
import { Manager } from '../../runtime/manager';
import { silentLogger } from '../../runtime/logger';
import { controllerRevisions, events, secrets } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { addTaskDefinitionController, taskDefinitionFinalizer } from './controller';
import { ControllerRevision, familyLabel } from './revisions';
import { eventually } from '../../runtime/eventually';

const ns = 'team-a';
const tds = taskDefinitions;

function taskDefinition(name: string, image: string, extra: Record<string, unknown> = {}): TaskDefinition {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: { name, namespace: ns },
    spec: { containerDefinitions: [{ name: 'app', image, memory: 128, ...extra }] },
  } as unknown as TaskDefinition;
}

describe('TaskDefinition controller (embedded store)', () => {
  let store: MemoryStore;
  let manager: Manager;
  let running: Promise<void>;

  beforeEach(() => {
    store = new MemoryStore({ validatorFor });
    manager = new Manager({ store, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
    addTaskDefinitionController(manager);
    running = manager.start();
  });

  afterEach(async () => {
    await manager.stop();
    await running;
  });

  const revisions = async (family: string) =>
    (await store.list<ControllerRevision>(controllerRevisions, ns, { labelSelector: `${familyLabel}=${family}` })).items;
  const statusOf = async (name: string) => (await store.get<TaskDefinition>(tds, ns, name))?.status;

  test('registers revision 1, then a changed image as revision 2 while revision 1 stays readable', async () => {
    await store.create(tds, taskDefinition('web', 'busybox:1'));
    await eventually(async () => (await statusOf('web'))?.revision === 1, 'revision 1');
    const td = (await store.get<TaskDefinition>(tds, ns, 'web'))!;
    expect(td.metadata.finalizers).toContain(taskDefinitionFinalizer);
    expect(td.status).toMatchObject({ family: 'web', revision: 1, status: 'ACTIVE', observedGeneration: td.metadata.generation });

    await store.update(tds, { ...td, spec: { ...td.spec, containerDefinitions: [{ ...td.spec.containerDefinitions[0], image: 'busybox:2' }] } });
    await eventually(async () => (await statusOf('web'))?.revision === 2, 'revision 2');

    const stored = await revisions('web');
    expect(stored.map((r) => [r.metadata.name, r.revision, (r.data.spec.containerDefinitions as { image: string }[])[0].image])).toEqual([
      ['web-1', 1, 'busybox:1'],
      ['web-2', 2, 'busybox:2'],
    ]);
    const recorded = (await store.list<KubeObject & { reason?: string; message?: string }>(events, ns)).items;
    expect(recorded.map((e) => e.message)).toEqual(expect.arrayContaining(['registered web:1', 'registered web:2']));
  });

  test('a change that leaves the spec alone registers nothing new', async () => {
    await store.create(tds, taskDefinition('api', 'busybox:1'));
    await eventually(async () => (await statusOf('api'))?.revision === 1, 'revision 1');
    await store.patch(tds, ns, 'api', { metadata: { labels: { team: 'a' } } });
    // Re-trigger with a spec-only-equal update and let the controller settle.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await revisions('api')).map((r) => r.revision)).toEqual([1]);
    expect((await statusOf('api'))?.revision).toBe(1);
  });

  test('a spec.family other than the object name names the revisions', async () => {
    await store.create(tds, {
      ...taskDefinition('legacy', 'busybox:1'),
      spec: { family: 'Legacy_App', containerDefinitions: [{ name: 'app', image: 'busybox:1', memory: 64 }] },
    } as never);
    const status = await eventually(async () => (await statusOf('legacy'))?.revision === 1 && statusOf('legacy'), 'revision 1');
    expect(status?.family).toBe('Legacy_App');
    const all = (await store.list<ControllerRevision>(controllerRevisions, ns)).items;
    expect(all.map((r) => r.data.family)).toEqual(['Legacy_App']);
    expect(all[0].metadata.name).toMatch(/^legacy-app-[0-9a-f]{8}-1$/);
  });

  test('a secret reference to a missing Secret is explained in a condition until the Secret exists', async () => {
    const secretRef = { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } };
    await store.create(tds, taskDefinition('db-client', 'busybox:1', { secrets: [secretRef] }));
    const condition = async () => (await statusOf('db-client'))?.conditions?.find((c) => c.type === 'ReferencesResolved');
    const missing = await eventually(async () => (await condition())?.status === 'False' && condition(), 'ReferencesResolved=False');
    expect(missing).toMatchObject({ reason: 'ReferenceNotFound' });
    expect(missing?.message).toContain('containerDefinitions[app].secrets[DB_PASSWORD]: Secret team-a/db not found');

    await store.create(secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns }, data: { password: 'c2VjcmV0' } } as KubeObject);
    const resolved = await eventually(async () => (await condition())?.status === 'True' && condition(), 'ReferencesResolved=True');
    expect(resolved?.message).not.toContain('c2VjcmV0');
    expect((await statusOf('db-client'))?.revision).toBe(1);
  });

  test('deleting a family a Service uses makes it INACTIVE and keeps its revisions until the Service is gone', async () => {
    await store.create(tds, taskDefinition('worker', 'busybox:1'));
    await eventually(async () => (await statusOf('worker'))?.revision === 1, 'revision 1');
    await store.create(services, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'worker', namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'worker', desiredCount: 1 },
    } as KubeObject);

    await store.delete(tds, ns, 'worker');
    await eventually(async () => (await statusOf('worker'))?.status === 'INACTIVE', 'INACTIVE');
    expect((await revisions('worker')).length).toBe(1);

    await store.delete(services, ns, 'worker');
    await eventually(async () => (await store.get(tds, ns, 'worker')) === undefined || undefined, 'the TaskDefinition to go');
    expect(await revisions('worker')).toEqual([]);
  });

  test('an object name that is no valid family is explained instead of registered', async () => {
    await store.create(tds, taskDefinition('web.v2', 'busybox:1'));
    const registered = async () => (await statusOf('web.v2'))?.conditions?.find((c) => c.type === 'Registered');
    const condition = await eventually(async () => (await registered())?.status === 'False' && registered(), 'Registered=False');
    expect(condition).toMatchObject({ reason: 'InvalidFamily' });
    expect(condition?.message).toContain('set spec.family');
    expect(await store.list(controllerRevisions, ns)).toMatchObject({ items: [] });
  });
});
