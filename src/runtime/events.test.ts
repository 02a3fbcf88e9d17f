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

  it('never rejects when the store refuses the write', async () => {
    const logs = captureLogs('info');
    const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock, logger: logs.logger });
    await expect(recorder.event(configMap('ns', 'Not A Valid Name'), 'Normal', 'Odd', 'x')).resolves.toBeUndefined();
    expect(logs.lines().some((l) => l.message === 'failed to record event')).toBe(true);
  });
});
