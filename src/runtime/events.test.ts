import { FakeClock } from './clock';
import { CoreEvent, StoreEventRecorder } from './events';
import { events as eventType } from '../store/builtin-types';
import { captureLogs, configMap, configMapType } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';

describe('StoreEventRecorder', () => {
  let clock: FakeClock;
  let store: MemoryStore;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore();
  });

  const events = async (): Promise<CoreEvent[]> => (await store.list<CoreEvent>(eventType, 'ns')).items;

  it('writes a core/v1 Event about the object and folds repeats into its count', async () => {
    const logs = captureLogs('info');
    const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock, logger: logs.logger });
    const web = await store.create(configMapType, configMap('ns', 'web'));

    await recorder.event(web, 'Warning', 'PlacementFailed', 'no container instance has 512 MiB free');
    await clock.advance(60_000);
    await recorder.event(web, 'Warning', 'PlacementFailed', 'no container instance has 512 MiB free');
    await recorder.event(web, 'Normal', 'Scaled', 'desired count 1 -> 2');

    const [placement, scaled] = (await events()).sort((a, b) => a.reason.localeCompare(b.reason));
    expect(placement).toMatchObject({
      type: 'Warning',
      reason: 'PlacementFailed',
      count: 2,
      involvedObject: { kind: 'ConfigMap', namespace: 'ns', name: 'web', uid: web.metadata.uid },
      source: { component: 'berth-operator' },
      firstTimestamp: '2025-01-01T00:00:00Z',
      lastTimestamp: '2025-01-01T00:01:00Z',
    });
    expect(placement.metadata.name).toMatch(/^web\.[0-9a-f]{16}$/);
    expect(scaled).toMatchObject({ type: 'Normal', count: 1 });
    expect(logs.lines().find((l) => l.event === 'PlacementFailed')).toMatchObject({
      level: 'warn',
      namespace: 'ns',
      name: 'web',
      kind: 'ConfigMap',
      message: 'no container instance has 512 MiB free',
    });
  });

  it('names the Event of an object whose name is already at the length limit within it', async () => {
    const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock });
    const long = await store.create(configMapType, configMap('ns', `${'a'.repeat(200)}.${'b'.repeat(52)}`));
    await recorder.event(long, 'Normal', 'Started', 'task started');
    const [event] = await events();
    expect(event.involvedObject.name).toBe(long.metadata.name);
    expect(event.metadata.name.length).toBeLessThanOrEqual(253);
  });

  it('starts a new Event after the correlation window, or when the old one expired', async () => {
    const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock });
    const web = await store.create(configMapType, configMap('ns', 'web'));
    await recorder.event(web, 'Normal', 'Started', 'task started');
    await clock.advance(10 * 60_000);
    await recorder.event(web, 'Normal', 'Started', 'task started');
    expect((await events()).map((e) => e.count)).toEqual([1, 1]);

    for (const event of await events()) await store.delete(eventType, 'ns', event.metadata.name);
    await recorder.event(web, 'Normal', 'Started', 'task started');
    expect((await events()).map((e) => e.count)).toEqual([1]);
  });

  it('writes the Events of one object in order, and never makes another object wait for them', async () => {
    let releaseSlow!: () => void;
    const slowWrite = new Promise<void>((resolve) => (releaseSlow = resolve));
    const slowForWeb = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'create' || typeof value !== 'function') return value;
        return async (type: never, object: CoreEvent) => {
          if (object.involvedObject.name === 'web') await slowWrite;
          return (value as (t: never, o: CoreEvent) => Promise<CoreEvent>).call(target, type, object);
        };
      },
    });
    const recorder = new StoreEventRecorder({ store: slowForWeb, component: 'berth-operator', clock });
    const web = await store.create(configMapType, configMap('ns', 'web'));
    const db = await store.create(configMapType, configMap('ns', 'db'));

    const first = recorder.event(web, 'Normal', 'First', 'one');
    const second = recorder.event(web, 'Normal', 'Second', 'two');
    await recorder.event(db, 'Normal', 'Other', 'not held up');
    expect((await events()).map((e) => e.reason)).toEqual(['Other']);

    releaseSlow();
    await Promise.all([first, second]);
    const ofWeb = (await events()).filter((e) => e.involvedObject.name === 'web');
    expect(ofWeb.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)).map((e) => e.reason)).toEqual(['First', 'Second']);
  });

  it('never rejects when the store refuses the write', async () => {
    const logs = captureLogs('info');
    const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock, logger: logs.logger });
    await expect(recorder.event(configMap('ns', 'Not A Valid Name'), 'Normal', 'Odd', 'x')).resolves.toBeUndefined();
    expect(logs.lines().some((l) => l.message === 'failed to record event')).toBe(true);
  });
});
