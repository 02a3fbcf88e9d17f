import { FakeClock, settle } from './clock';
import { Controller, Reconciler } from './controller';
import { SharedInformer } from './informer';
import { createRegistry, RuntimeMetrics } from './metrics';
import { ObjectKey } from './object-key';
import { captureLogs, ConfigMap, configMap, configMapType } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';
import { StoreError } from '../store/object-store';

describe('Controller', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let informer: SharedInformer<ConfigMap>;
  let metrics: RuntimeMetrics;
  let controller: Controller | undefined;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore();
    informer = new SharedInformer<ConfigMap>(store, configMapType, { clock });
    metrics = new RuntimeMetrics(createRegistry({ processMetrics: false }));
  });

  afterEach(async () => {
    await controller?.stop(0);
    await running;
    informer.stop();
    controller = running = undefined;
  });

  async function run(reconcile: Reconciler, options: { workers?: number; logs?: ReturnType<typeof captureLogs> } = {}): Promise<Controller> {
    controller = new Controller({ name: 'configmaps', reconcile, clock, metrics, workers: options.workers, logger: options.logs?.logger });
    controller.watch(informer);
    informer.start();
    running = controller.start();
    await settle();
    return controller;
  }

  async function counter(name: string): Promise<number> {
    const metric = await metrics.registry.getSingleMetric(name)!.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  }

  it('reconciles each key once per burst of events and never one key on two workers at once', async () => {
    const active = new Set<string>();
    let overlapped = false;
    const seen: string[] = [];
    let release: () => void = () => {};
    await run(
      async (key) => {
        if (active.has(key.name)) overlapped = true;
        active.add(key.name);
        seen.push(`${key.name}=${informer.get(key.namespace, key.name)?.data?.v}`);
        if (key.name === 'a' && seen.length === 1) await new Promise<void>((resolve) => (release = resolve));
        active.delete(key.name);
      },
      { workers: 4 },
    );

    await store.create(configMapType, configMap('ns', 'a', { v: '1' }));
    await settle();
    for (let v = 2; v <= 5; v++) await store.patch(configMapType, 'ns', 'a', { data: { v: String(v) } });
    await store.create(configMapType, configMap('ns', 'b', { v: '1' }));
    await settle();
    expect(seen).toEqual(['a=1', 'b=1']);

    release();
    await settle();
    expect(seen).toEqual(['a=1', 'b=1', 'a=5']);
    expect(overlapped).toBe(false);
  });

  it('retries failures with exponential backoff, 5 ms doubling, and forgets it on success', async () => {
    const attempts: number[] = [];
    let failuresLeft = 4;
    await run(async () => {
      attempts.push(clock.now());
      if (failuresLeft-- > 0) throw new Error('boom');
    });
    const start = clock.now();
    await store.create(configMapType, configMap('ns', 'a'));
    await clock.advance(1000);
    expect(attempts.map((t) => t - start)).toEqual([0, 5, 15, 35, 75]);

    failuresLeft = 1;
    attempts.length = 0;
    const again = clock.now();
    controller!.enqueue({ namespace: 'ns', name: 'a' });
    await clock.advance(1000);
    expect(attempts.map((t) => t - again)).toEqual([0, 5]);
    expect(await counter('controller_runtime_reconcile_errors_total')).toBe(5);
  });

  it('requeues after the delay a reconcile asks for', async () => {
    const attempts: number[] = [];
    await run(async () => {
      attempts.push(clock.now());
      return attempts.length < 3 ? { requeueAfterMs: 30_000 } : undefined;
    });
    const start = clock.now();
    await store.create(configMapType, configMap('ns', 'a'));
    await clock.advance(120_000);
    expect(attempts.map((t) => t - start)).toEqual([0, 30_000, 60_000]);
    const total = await metrics.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
    expect(Object.fromEntries(total.values.map((v) => [v.labels.result, v.value]))).toEqual({ requeue_after: 2, success: 1, error: 0, requeue: 0 });
  });

  it('retries a reconcile that hit a conflict, without logging an error, and the world ends right', async () => {
    const logs = captureLogs('debug');
    let firstTry = true;
    await run(
      async (key) => {
        const cached = informer.get(key.namespace, key.name)!;
        if (firstTry) {
          firstTry = false;
          // Someone else writes between our read and our write: our cached copy is now stale.
          await store.patch(configMapType, 'ns', 'a', { data: { owner: 'someone-else' } });
        }
        const desired = structuredClone(cached);
        desired.data = { ...desired.data, reconciled: 'yes' };
        await store.update(configMapType, desired);
      },
      { logs },
    );
    await store.create(configMapType, configMap('ns', 'a', { original: '1' }));
    await clock.advance(100);

    const stored = await store.get<ConfigMap>(configMapType, 'ns', 'a');
    expect(stored?.data).toEqual({ original: '1', owner: 'someone-else', reconciled: 'yes' });
    // Counted as errors, as controller-runtime does (more than one when a retry beats the watch event to the cache).
    expect(await counter('controller_runtime_reconcile_errors_total')).toBeGreaterThanOrEqual(1);
    const lines = logs.lines();
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.some((l) => l.level === 'debug' && l.message === 'conflict, retrying')).toBe(true);
  });

  it('logs every reconcile line with controller, namespace, name and reconcileID', async () => {
    const logs = captureLogs('info');
    await run(
      async (key, { log }) => {
        log.info('converging');
        if (key.name === 'bad') throw new StoreError('Invalid', 'nope');
      },
      { logs },
    );
    await store.create(configMapType, configMap('ns', 'good'));
    await store.create(configMapType, configMap('ns', 'bad'));
    await clock.advance(1);

    const fromReconciles = logs.lines().filter((l) => l.message === 'converging' || l.message === 'reconciler error');
    expect(fromReconciles.length).toBeGreaterThanOrEqual(3);
    for (const line of fromReconciles) {
      expect(line).toMatchObject({ controller: 'configmaps', namespace: 'ns', reconcileID: expect.any(String) });
      expect(['good', 'bad']).toContain(line.name);
    }
  });

  it('maps events to the keys a map function returns', async () => {
    const reconciled: ObjectKey[] = [];
    controller = new Controller({ name: 'owners', clock, reconcile: async (key) => void reconciled.push(key) });
    controller.watch(informer, (object) => {
      const owner = object.metadata.labels?.owner;
      return owner ? { namespace: object.metadata.namespace, name: owner } : undefined;
    });
    informer.start();
    running = controller.start();
    await store.create(configMapType, { ...configMap('ns', 'task-1'), metadata: { namespace: 'ns', name: 'task-1', labels: { owner: 'web' } } });
    await store.create(configMapType, configMap('ns', 'orphan'));
    await settle();
    expect(reconciled).toEqual([{ namespace: 'ns', name: 'web' }]);
  });

  it('stop drains the reconcile in flight and takes no new work', async () => {
    let finished = 0;
    let release: () => void = () => {};
    await run(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      finished++;
    });
    await store.create(configMapType, configMap('ns', 'a'));
    await settle();

    const stopped = controller!.stop(10_000);
    await store.create(configMapType, configMap('ns', 'b'));
    await settle();
    release();
    expect(await stopped).toBe(true);
    await running;
    expect(finished).toBe(1);
  });
});
