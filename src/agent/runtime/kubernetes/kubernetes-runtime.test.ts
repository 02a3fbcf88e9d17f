import { FakeClock, realClock, settle } from '../../../runtime/clock';
import { SharedInformer } from '../../../runtime/informer';
import { PodIndex, podLabels, type PodObject } from '../../../ecs/pods';
import { pods } from '../../../store/builtin-types';
import { MemoryStore } from '../../../store/memory/memory-store';
import type { ObjectStore } from '../../../store/object-store';
import { taskLaunch, taskSpec } from '../testing';
import { KubernetesRuntime } from './kubernetes-runtime';
import { podMetricsType, type PodMetrics } from './pod-metrics';

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

describe('KubernetesRuntime usage, from the Pod’s PodMetrics (metrics.k8s.io)', () => {
  const spec = taskSpec([{ name: 'web' }]);
  const launch = taskLaunch(spec, { taskUid: 'uid-web', taskName: 'web-1' });
  const now = Date.parse('2026-12-04T13:00:05Z');

  test('reads the Pod’s PodMetrics as a rate once the Pod runs; undefined before, and where no metrics API answers', async () => {
    const store = new MemoryStore();
    const informer = new SharedInformer<PodObject>(store, pods);
    informer.start();
    await informer.waitForSync();
    const runtime = new KubernetesRuntime({
      store,
      pods: new PodIndex(informer),
      nodeName: 'node-a',
      instanceUid: 'instance-uid',
      clock: new FakeClock(now),
      scheduling: () => ({}),
      podLevelResources: false,
      version: () => 'containerd://2.0',
    });
    await runtime.ensureRunning(launch);
    await settle();
    expect(await runtime.usage('uid-web')).toBeUndefined(); // Pending

    await store.patch(
      pods,
      'team',
      'web-1',
      {
        status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
      },
      'status',
    );
    await settle();
    expect(await runtime.usage('uid-web')).toBeUndefined(); // no metrics API, or not scraped yet

    const metrics: PodMetrics = {
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: { name: 'web-1', namespace: 'team' },
      timestamp: '2026-12-04T13:00:00Z',
      window: '10s',
      containers: [{ name: 'web', usage: { cpu: '500m', memory: '64Mi' } }],
    };
    await store.create(podMetricsType, metrics);
    expect(await runtime.usage('uid-web')).toEqual({ cpuNanocores: 500_000_000, windowMs: 10_000, memoryBytes: 64 * 2 ** 20, readAt: now - 5000 });
    expect(await runtime.usage('uid-unknown')).toBeUndefined();
    informer.stop();
  });
});
