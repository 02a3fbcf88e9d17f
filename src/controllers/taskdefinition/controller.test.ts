import { services, taskDefinitions, tasks, validatorFor, type Service, type Task, type TaskDefinition } from '../../api';
import { Manager } from '../../runtime/manager';
import { silentLogger } from '../../runtime/logger';
import { controllerRevisions, events, secrets } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { addTaskDefinitionController, taskDefinitionFinalizer } from './controller';
import { ControllerRevision, familyLabel, revisionFinalizer } from '../../ecs/revisions/revisions';
import { eventually } from '../../runtime/eventually';
import type { CoreEvent } from '../../runtime/events';
import { CountingStore } from '../../store/testing/counting-store';

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

function ofFamily(family: string, td: TaskDefinition): TaskDefinition {
  return { ...td, spec: { ...td.spec, family } };
}

describe('TaskDefinition controller (embedded store)', () => {
  let store: MemoryStore;
  let log: CountingStore;
  let manager: Manager;
  let running: Promise<void>;

  beforeEach(() => {
    store = new MemoryStore({ validatorFor });
    log = new CountingStore(store);
    manager = new Manager({ store: log.store, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
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
  const condition = async (name: string, type: string) => (await statusOf(name))?.conditions?.find((c) => c.type === type);
  const eventsOf = async (name: string, reason: string) =>
    (await store.list<CoreEvent>(events, ns)).items.filter((e) => e.involvedObject.name === name && e.reason === reason);
  /** The status once the controller has answered the object's current generation. */
  const observed = async (name: string) => {
    const td = await store.get<TaskDefinition>(tds, ns, name);
    return td?.status?.observedGeneration === td?.metadata.generation && td?.status;
  };
  const setImage = async (name: string, image: string) => {
    const td = (await store.get<TaskDefinition>(tds, ns, name))!;
    await store.update(tds, { ...td, spec: { ...td.spec, containerDefinitions: [{ ...td.spec.containerDefinitions[0], image }] } });
  };

  /** A Service as the service controller leaves it: status names the revision its PRIMARY deployment runs. */
  const createService = async (name: string, taskDefinition: string, running: string) => {
    await store.create(services, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name, namespace: ns },
      spec: { cluster: 'demo', taskDefinition, desiredCount: 1 },
    } as KubeObject);
    await setServiceRevision(name, running);
  };
  const setServiceRevision = async (name: string, running: string) => {
    const service = (await store.get<Service>(services, ns, name))!;
    await store.updateStatus(services, { ...service, status: { ...service.status, taskDefinition: running } });
  };
  const createTask = async (name: string, taskDefinition: string) => {
    await store.create(tasks, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name, namespace: ns },
      spec: { cluster: 'demo', taskDefinition },
    } as KubeObject);
  };
  const stopTask = async (name: string) => {
    const task = (await store.get<Task>(tasks, ns, name))!;
    await store.updateStatus(tasks, { ...task, status: { ...task.status, lastStatus: 'STOPPED' } });
  };
  const revisionGone = (name: string) => async () => (await store.get(controllerRevisions, ns, name)) === undefined;
  const registeredWeb = async (n: number) => {
    await store.create(tds, taskDefinition('web', 'busybox:1'));
    await eventually(async () => (await statusOf('web'))?.revision === 1, 'revision 1');
    for (let revision = 2; revision <= n; revision++) {
      await setImage('web', `busybox:${revision}`);
      await eventually(async () => (await statusOf('web'))?.revision === revision, `revision ${revision}`);
    }
  };

  describe('one family, one owner', () => {
    test.each([
      {
        shapes: 'one named after the family, one naming it in spec.family',
        first: taskDefinition('web', 'busybox:1'),
        second: ofFamily('web', taskDefinition('web-copy', 'busybox:2')),
      },
      {
        shapes: 'both naming it in spec.family',
        first: ofFamily('web', taskDefinition('web-a', 'busybox:1')),
        second: ofFamily('web', taskDefinition('web-b', 'busybox:2')),
      },
    ])('$shapes: the first registers; the second registers nothing and says so once', async ({ first, second }) => {
      const [owner, claimant] = [first.metadata.name, second.metadata.name];
      await store.create(tds, first);
      await eventually(async () => (await statusOf(owner))?.revision === 1, 'revision 1');
      await store.create(tds, second);
      await eventually(() => observed(claimant), 'the second object to be answered');
      // Every spec change of the claimant must be answered by one status write, and register nothing.
      for (const image of ['busybox:3', 'busybox:4', 'busybox:5']) {
        await setImage(claimant, image);
        await eventually(() => observed(claimant), `the second object to be answered for ${image}`);
      }

      expect((await revisions('web')).map((r) => [r.metadata.name, r.metadata.ownerReferences?.[0].name])).toEqual([['web-1', owner]]);
      expect(log.matching({ verb: 'create', resource: 'controllerrevisions.apps', outcome: 'ok' }).length).toBe(1);
      expect(log.matching({ verb: 'updateStatus', resource: 'taskdefinitions.berth.dev', name: owner, outcome: 'ok' }).length).toBe(1);
      expect(log.matching({ verb: 'updateStatus', resource: 'taskdefinitions.berth.dev', name: claimant, outcome: 'ok' }).length).toBe(4);
      expect(await statusOf(claimant)).toMatchObject({ family: 'web' });
      expect((await statusOf(claimant))?.revision).toBeUndefined();
      expect(await condition(claimant, 'Registered')).toMatchObject({
        status: 'False',
        reason: 'FamilyConflict',
        message: `family web belongs to TaskDefinition ${owner}, which registered its revisions: this object registers nothing while ${owner} exists`,
      });
      const warnings = await eventually(
        async () => (await eventsOf(claimant, 'FamilyConflict')).length > 0 && eventsOf(claimant, 'FamilyConflict'),
        'the event',
      );
      expect(warnings.map((e) => [e.type, e.count])).toEqual([['Warning', 1]]);
    });

    test('when the owner is deleted, the waiting object takes the family over and numbering goes on', async () => {
      await registeredWeb(2);
      await store.create(tds, ofFamily('web', taskDefinition('web-copy', 'busybox:9')));
      await eventually(async () => (await condition('web-copy', 'Registered'))?.reason === 'FamilyConflict', 'FamilyConflict');

      await store.delete(tds, ns, 'web');
      const status = await eventually(async () => (await statusOf('web-copy'))?.revision === 3 && statusOf('web-copy'), 'web-copy to register web:3');
      expect(status).toMatchObject({ family: 'web', status: 'ACTIVE' });
      expect(await condition('web-copy', 'Registered')).toMatchObject({ status: 'True', message: 'web:3 is the latest revision' });
      await eventually(async () => (await store.get(tds, ns, 'web')) === undefined, 'the old owner to go');
      expect((await revisions('web')).map((r) => [r.metadata.name, r.metadata.ownerReferences?.[0].name, r.metadata.deletionTimestamp])).toEqual([
        ['web-3', 'web-copy', undefined],
      ]);
      expect((await eventsOf('web-copy', 'RevisionRegistered')).map((e) => e.message)).toEqual(['registered web:3']);
    });
  });

  describe('deregistering one revision (deleting its ControllerRevision)', () => {
    test('a revision nothing uses goes at once; the family resolves as before', async () => {
      await registeredWeb(2);
      await store.delete(controllerRevisions, ns, 'web-1');
      await eventually(revisionGone('web-1'), 'web-1 to go');
      expect(await statusOf('web')).toMatchObject({ revision: 2, status: 'ACTIVE' });
      expect((await statusOf('web'))?.inactiveRevisions).toBeUndefined();
    });

    test('the latest revision stays INACTIVE: its spec is not registered again, and a new spec gets the next number', async () => {
      await registeredWeb(2);
      await store.delete(controllerRevisions, ns, 'web-2');
      const status = await eventually(async () => (await statusOf('web'))?.inactiveRevisions?.includes(2) && statusOf('web'), 'web:2 INACTIVE');
      expect(status).toMatchObject({ family: 'web', revision: 1, status: 'ACTIVE', inactiveRevisions: [2] });
      expect(await condition('web', 'Registered')).toMatchObject({
        status: 'False',
        reason: 'RevisionDeregistered',
        message: 'web:2, which this spec describes, is deregistered: change the spec to register web:3',
      });
      const deregistered = await eventually(async () => (await eventsOf('web', 'RevisionDeregistered'))[0], 'the event');
      expect(deregistered.message).toBe(
        "web:2 is INACTIVE: new services and tasks cannot use it; kept (the family's newest revision, which keeps revision numbers from going back)",
      );
      // The reconcile that wrote the condition is the one that chose not to register web:2's spec again.
      expect(log.matching({ verb: 'create', resource: 'controllerrevisions.apps', outcome: 'ok' }).length).toBe(2);

      await setImage('web', 'busybox:3');
      await eventually(async () => (await statusOf('web'))?.revision === 3, 'web:3');
      expect(log.matching({ verb: 'create', resource: 'controllerrevisions.apps', outcome: 'ok' }).length).toBe(3);
      await eventually(revisionGone('web-2'), 'web-2 to go once web:3 exists');
      expect(await statusOf('web')).toMatchObject({ revision: 3 });
      expect((await statusOf('web'))?.inactiveRevisions).toBeUndefined();
    });

    test('a revision a Service or a Task uses stays INACTIVE until neither does', async () => {
      await registeredWeb(3);
      await createService('api', 'web', 'web:1');
      await createTask('backup', 'web:1');
      await store.delete(controllerRevisions, ns, 'web-1');
      await eventually(async () => (await statusOf('web'))?.inactiveRevisions?.includes(1), 'web:1 INACTIVE');
      expect(await statusOf('web')).toMatchObject({ revision: 3, inactiveRevisions: [1] });
      const deregistered = await eventually(async () => (await eventsOf('web', 'RevisionDeregistered'))[0], 'the event');
      expect(deregistered.message).toBe('web:1 is INACTIVE: new services and tasks cannot use it; kept (in use by Service api, Task backup)');

      await setServiceRevision('api', 'web:3');
      await stopTask('backup');
      await eventually(revisionGone('web-1'), 'web-1 to go');
      await eventually(async () => (await statusOf('web'))?.inactiveRevisions === undefined, 'inactiveRevisions to clear');
    });

    test('a revision registered without the finalizer gets it', async () => {
      await registeredWeb(1);
      const revision = (await store.get<ControllerRevision>(controllerRevisions, ns, 'web-1'))!;
      await store.update(controllerRevisions, { ...revision, metadata: { ...revision.metadata, finalizers: [] } });
      await eventually(
        async () => (await store.get<ControllerRevision>(controllerRevisions, ns, 'web-1'))?.metadata.finalizers?.includes(revisionFinalizer),
        'the finalizer',
      );
    });
  });

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

  test('status says which launch types and data planes run the latest revision, and the field that rules one out', async () => {
    await store.create(tds, taskDefinition('web', 'nginx:1', { ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }] }));
    const first = await eventually(async () => (await statusOf('web'))?.revision === 1 && statusOf('web'), 'revision 1');
    expect(first).toMatchObject({
      compatibilities: ['EC2'],
      dataPlanes: [
        { name: 'Docker', compatible: true },
        { name: 'Pod', compatible: false, field: 'spec.containerDefinitions[0].ulimits', reason: 'Kubernetes sets no per-container ulimits' },
      ],
    });
    const td = (await store.get<TaskDefinition>(tds, ns, 'web'))!;
    await store.update(tds, {
      ...td,
      spec: { ...td.spec, networkMode: 'awsvpc', cpu: 256, memory: 512, containerDefinitions: [{ ...td.spec.containerDefinitions[0], ulimits: undefined }] },
    });
    const second = await eventually(async () => (await statusOf('web'))?.revision === 2 && statusOf('web'), 'revision 2');
    expect(second).toMatchObject({
      compatibilities: ['EC2', 'FARGATE'],
      dataPlanes: [
        { name: 'Docker', compatible: true },
        { name: 'Pod', compatible: true },
      ],
    });
  });

  test('a change that leaves the spec alone registers nothing new', async () => {
    await store.create(tds, taskDefinition('api', 'busybox:1'));
    await eventually(async () => (await statusOf('api'))?.revision === 1, 'revision 1');
    await store.patch(tds, ns, 'api', { metadata: { labels: { team: 'a' } } });
    // The controller's one worker takes keys in the order they came: once an object created after the
    // patch is registered, the patched one has been reconciled.
    await store.create(tds, taskDefinition('later', 'busybox:1'));
    await eventually(async () => (await statusOf('later'))?.revision === 1, 'a later object to be registered');
    expect((await revisions('api')).map((r) => r.revision)).toEqual([1]);
    expect(log.matching({ verb: 'updateStatus', resource: 'taskdefinitions.berth.dev', name: 'api', outcome: 'ok' }).length).toBe(1);
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

  test('deleting a family a Service runs makes it INACTIVE and keeps that revision until the Service is gone', async () => {
    await store.create(tds, taskDefinition('worker', 'busybox:1'));
    await eventually(async () => (await statusOf('worker'))?.revision === 1, 'revision 1');
    await setImage('worker', 'busybox:2');
    await eventually(async () => (await statusOf('worker'))?.revision === 2, 'revision 2');
    await createService('worker', 'worker', 'worker:1');

    await store.delete(tds, ns, 'worker');
    await eventually(async () => (await statusOf('worker'))?.status === 'INACTIVE', 'INACTIVE');
    expect(await statusOf('worker')).toMatchObject({ inactiveRevisions: [1] });
    expect((await condition('worker', 'Registered'))?.message).toBe('deregistered; revisions are kept while needed: worker:1 (in use by Service worker)');
    await eventually(revisionGone('worker-2'), 'worker:2, which nothing uses, to go');
    expect((await revisions('worker')).map((r) => [r.revision, r.metadata.deletionTimestamp !== undefined])).toEqual([[1, true]]);

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
