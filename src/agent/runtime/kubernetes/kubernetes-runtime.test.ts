import { realClock, settle } from '../../../runtime/clock';
import { SharedInformer } from '../../../runtime/informer';
import { PodIndex, podLabels, type PodObject } from '../../../ecs/pods';
import { pods } from '../../../store/builtin-types';
import { MemoryStore } from '../../../store/memory/memory-store';
import type { ObjectStore } from '../../../store/object-store';
import { taskLaunch, taskSpec } from '../testing';
import { KubernetesRuntime } from './kubernetes-runtime';

/**
 * A service reuses the lowest free ordinal, so a new task can take the name of one it just pruned while
 * that task's Pod (named after the task) is still terminating. The new task waits for the name; it never
 * takes the old Pod for its own.
 */
describe('KubernetesRuntime, a task named like an earlier one whose Pod is still there', () => {
  let store: MemoryStore;
  let informer: SharedInformer<PodObject>;
  const spec = taskSpec([{ name: 'web' }]);
  const earlier = taskLaunch(spec, { taskUid: 'uid-old', taskName: 'web-1' });
  const later = taskLaunch(spec, { taskUid: 'uid-new', taskName: 'web-1' });

  beforeEach(async () => {
    store = new MemoryStore();
    informer = new SharedInformer<PodObject>(store, pods);
    informer.start();
    await informer.waitForSync();
  });

  afterEach(() => informer.stop());

  const runtimeOn = (objects: ObjectStore, podCache: () => PodIndex = () => new PodIndex(informer)) =>
    new KubernetesRuntime({
      store: objects,
      pods: podCache(),
      nodeName: 'node-a',
      instanceUid: 'instance-uid',
      clock: realClock,
      scheduling: () => ({}),
      podLevelResources: false,
      version: () => 'containerd://2.0',
    });
  const podOwner = async () => (await store.get<PodObject>(pods, 'team', 'web-1'))?.metadata.labels?.[podLabels.taskUid];

  test('waits (PENDING) while the earlier Pod holds the name, then creates its own', async () => {
    const runtime = runtimeOn(store);
    await runtime.ensureRunning(earlier);
    await settle();

    const waiting = await runtime.ensureRunning(later);
    expect(waiting).toMatchObject({ taskUid: 'uid-new', containers: [{ name: 'web', lastStatus: 'PENDING' }] });
    expect(await podOwner()).toBe('uid-old');

    await store.delete(pods, 'team', 'web-1');
    await settle();
    const created = await runtime.ensureRunning(later);
    expect(created.taskUid).toBe('uid-new');
    expect(await podOwner()).toBe('uid-new');
  });

  test('a first launch creates without reading first; the Pod of an earlier step, not in the cache yet, is adopted, not made twice', async () => {
    let reads = 0;
    const counted = new Proxy(store, {
      get: (target, property, receiver) => {
        if (property === 'get') reads++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    // A cache that never shows the Pod: as right after a step created it, or after a restart.
    const blind = () => new PodIndex(new SharedInformer<PodObject>(new MemoryStore(), pods));
    const first = await runtimeOn(counted, blind).ensureRunning(later);
    expect(first.taskUid).toBe('uid-new');
    expect(reads).toBe(0);

    const again = await runtimeOn(counted, blind).ensureRunning(later);
    expect(again).toMatchObject({ taskUid: 'uid-new', taskName: 'web-1' });
    expect((await store.list(pods, 'team')).items).toHaveLength(1);
  });
});
