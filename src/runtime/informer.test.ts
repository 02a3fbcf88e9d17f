import { FakeClock, settle } from './clock';
import { EventHandler, SharedInformer } from './informer';
import {
  KubeObject,
  ListOptions,
  ListResult,
  ObjectStore,
  ResourceType,
  StoreError,
  Watch,
  WatchCallbacks,
  WatchEventType,
  WatchOptions,
} from '../store/object-store';

const configMaps: ResourceType = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, statusSubresource: false };

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

interface OpenWatch {
  options: WatchOptions;
  callbacks: WatchCallbacks<KubeObject>;
  stopped: boolean;
}

/** A store whose watches the test drives by hand: it decides when events flow, when watches close and what fails. */
class ScriptedStore implements ObjectStore {
  readonly objects = new Map<string, ConfigMap>();
  readonly watches: OpenWatch[] = [];
  readonly listTimes: number[] = [];
  readonly listRequests: ListOptions[] = [];
  readonly listFailures: Error[] = [];
  readonly watchFailures: Error[] = [];
  private revision = 0;

  constructor(private readonly clock: FakeClock) {}

  /** Writes an object; the open watch sees it unless `unseen` (the informer is away). */
  put(name: string, value: string, unseen = false): void {
    const existed = this.objects.has(name);
    const object: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'ns', name, resourceVersion: String(++this.revision) },
      data: { value },
    };
    this.objects.set(name, object);
    if (!unseen) this.emit(existed ? 'MODIFIED' : 'ADDED', object);
  }

  remove(name: string, unseen = false): void {
    const object = this.objects.get(name)!;
    this.objects.delete(name);
    const final = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.revision) } };
    if (!unseen) this.emit('DELETED', final);
  }

  openWatch(): OpenWatch {
    const open = this.watches.filter((w) => !w.stopped);
    expect(open).toHaveLength(1);
    return open[0];
  }

  /** The server ends the current watch; the informer's own stop() is not reported, as the port promises. */
  closeWatch(error?: Error): void {
    const watch = this.openWatch();
    watch.stopped = true;
    watch.callbacks.onClose(error);
  }

  /** The server says the watch is alive and nothing changed up to now. */
  bookmark(): void {
    for (const watch of this.watches) if (!watch.stopped) watch.callbacks.onBookmark?.(String(this.revision));
  }

  private emit(type: WatchEventType, object: ConfigMap): void {
    for (const watch of this.watches) if (!watch.stopped) watch.callbacks.onEvent({ type, object });
  }

  /** Pages as the API server does: `limit` items, then a continue token holding the next offset. */
  async list<T extends KubeObject>(_type: ResourceType, _namespace: string | undefined, options: ListOptions = {}): Promise<ListResult<T>> {
    this.listTimes.push(this.clock.now());
    this.listRequests.push(options);
    const failure = this.listFailures.shift();
    if (failure) throw failure;
    const all = [...this.objects.values()] as unknown as T[];
    const from = options.continue ? Number(options.continue) : 0;
    const to = options.limit ? from + options.limit : all.length;
    return { items: all.slice(from, to), resourceVersion: String(this.revision), ...(to < all.length ? { continue: String(to) } : {}) };
  }

  async watch<T extends KubeObject>(_type: ResourceType, _namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch> {
    const failure = this.watchFailures.shift();
    if (failure) throw failure;
    const watch: OpenWatch = { options, callbacks: callbacks, stopped: false };
    this.watches.push(watch);
    return { stop: () => (watch.stopped = true) };
  }

  get = unused;
  create = unused;
  update = unused;
  updateStatus = unused;
  patch = unused;
  delete = unused;
}

function unused(): never {
  throw new Error('the informer must only list and watch');
}

/** Records what handlers were told, as `add:a`, `update:a`, `delete:a`. */
function recorder(): { seen: string[]; handler: EventHandler<ConfigMap> } {
  const seen: string[] = [];
  return {
    seen,
    handler: {
      onAdd: (o) => seen.push(`add:${o.metadata.name}`),
      onUpdate: (old, o) => seen.push(`update:${o.metadata.name}:${old.data?.value}->${o.data?.value}`),
      onDelete: (o) => seen.push(`delete:${o.metadata.name}`),
    },
  };
}

function values(informer: SharedInformer<ConfigMap>): Record<string, string | undefined> {
  return Object.fromEntries(informer.list('ns').map((o) => [o.metadata.name, o.data?.value]));
}

describe('SharedInformer', () => {
  let clock: FakeClock;
  let store: ScriptedStore;
  let informer: SharedInformer<ConfigMap>;

  beforeEach(() => {
    clock = new FakeClock();
    store = new ScriptedStore(clock);
  });

  afterEach(() => informer.stop());

  async function startInformer(options: ConstructorParameters<typeof SharedInformer>[2] = {}): Promise<string[]> {
    informer = new SharedInformer<ConfigMap>(store, configMaps, { clock, ...options });
    const { seen, handler } = recorder();
    informer.addEventHandler(handler);
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    await settle();
    return seen;
  }

  it('lists, then watches from the list resourceVersion and keeps the cache current', async () => {
    store.put('a', '1', true);
    store.put('b', '1', true);
    const seen = await startInformer();

    expect(informer.hasSynced()).toBe(true);
    expect(store.openWatch().options.resourceVersion).toBe('2');
    store.put('a', '2');
    store.put('c', '1');
    store.remove('b');

    expect(values(informer)).toEqual({ a: '2', c: '1' });
    expect(informer.get('ns', 'a')?.data?.value).toBe('2');
    expect(informer.get('ns', 'b')).toBeUndefined();
    expect(seen).toEqual(['add:a', 'add:b', 'update:a:1->2', 'add:c', 'delete:b']);
  });

  it('watches again from the last seen resourceVersion when the server closes the watch', async () => {
    const seen = await startInformer();
    store.put('a', '1');
    store.put('a', '2');
    store.closeWatch();
    await settle();

    expect(store.listTimes).toHaveLength(1);
    expect(store.openWatch().options.resourceVersion).toBe('2');
    store.put('a', '3');
    expect(values(informer)).toEqual({ a: '3' });
    expect(seen).toEqual(['add:a', 'update:a:1->2', 'update:a:2->3']);
  });

  it('relists after 410 Gone and tells handlers what changed while it was away', async () => {
    store.put('kept', '1', true);
    store.put('changed', '1', true);
    store.put('deleted', '1', true);
    const seen = await startInformer();
    seen.length = 0;

    store.put('changed', '2', true);
    store.remove('deleted', true);
    store.put('added', '1', true);
    store.closeWatch(new StoreError('Gone', 'too old resource version'));
    await settle();

    expect(store.listTimes).toHaveLength(2);
    expect(values(informer)).toEqual({ kept: '1', changed: '2', added: '1' });
    expect(seen.sort()).toEqual(['add:added', 'delete:deleted', 'update:changed:1->2']);
    expect(store.openWatch().options.resourceVersion).toBe(informer.lastSyncResourceVersion());
  });

  it('relists at once when a watch is refused with 410 Gone', async () => {
    await startInformer();
    store.put('a', '1', true);
    store.watchFailures.push(new StoreError('Gone', 'too old resource version'));
    store.closeWatch();
    await settle();

    expect(store.listTimes).toHaveLength(2);
    expect(values(informer)).toEqual({ a: '1' });
    store.openWatch();
  });

  it('relists with exponential backoff, capped, after other errors, and recovers', async () => {
    await startInformer({ initialBackoffMs: 1000, maxBackoffMs: 4000 });
    const start = clock.now();
    for (let i = 0; i < 4; i++) store.listFailures.push(new StoreError('Unavailable', 'apiserver down'));
    store.put('a', '1', true);
    store.closeWatch(new StoreError('Unavailable', 'connection reset'));
    await clock.advance(60_000);

    const delays = store.listTimes.slice(1).map((t) => t - start);
    expect(delays).toEqual([1000, 3000, 7000, 11000, 15000]);
    expect(values(informer)).toEqual({ a: '1' });
    store.openWatch();
  });

  it('starts every outage from the initial backoff: listing and watching again resets it, on a quiet resource too', async () => {
    await startInformer({ initialBackoffMs: 1000, maxBackoffMs: 30_000 });
    for (let i = 0; i < 3; i++) store.listFailures.push(new StoreError('Unavailable', 'apiserver down'));
    store.closeWatch(new StoreError('Unavailable', 'connection reset'));
    await clock.advance(60_000);
    store.openWatch(); // back after 1 + 2 + 4 s of failed lists; nothing changed, so no event comes

    const second = clock.now();
    store.listFailures.push(new StoreError('Unavailable', 'apiserver down'));
    store.closeWatch(new StoreError('Unavailable', 'connection reset'));
    await clock.advance(60_000);

    expect(store.listTimes.filter((t) => t > second).map((t) => t - second)).toEqual([1000, 3000]);
    store.openWatch();
  });

  it('restarts a watch that stalls silently, without relisting, once the store has shown it sends bookmarks', async () => {
    await startInformer({ stallTimeoutMs: 60_000 });
    store.put('a', '1');
    const stalled = store.openWatch();
    store.bookmark();

    await clock.advance(59_999);
    expect(stalled.stopped).toBe(false);
    await clock.advance(1);
    expect(stalled.stopped).toBe(true);
    expect(store.listTimes).toHaveLength(1);
    expect(store.openWatch().options.resourceVersion).toBe('1');
    store.put('a', '2');
    expect(values(informer)).toEqual({ a: '2' });
  });

  it('keeps a quiet watch that bookmarks regularly, and a quiet watch of a store without bookmarks', async () => {
    await startInformer({ stallTimeoutMs: 60_000 });
    const quiet = store.openWatch();
    await clock.advance(10 * 60_000);
    expect(quiet.stopped).toBe(false);

    for (let minute = 0; minute < 10; minute++) {
      store.bookmark();
      await clock.advance(59_000);
    }
    expect(quiet.stopped).toBe(false);
    expect(store.listTimes).toHaveLength(1);
  });

  it('resumes from the resourceVersion of the last bookmark', async () => {
    await startInformer();
    store.put('other', '1', true);
    store.put('other', '2', true);
    store.bookmark();
    store.closeWatch();
    await settle();
    expect(store.openWatch().options.resourceVersion).toBe('2');
  });

  it('lists in pages and caches every page', async () => {
    for (let i = 0; i < 7; i++) store.put(`cm-${i}`, String(i), true);
    informer = new SharedInformer<ConfigMap>(store, configMaps, { clock, pageSize: 3 });
    informer.start();
    await settle();
    expect(store.listRequests.map((r) => [r.limit, r.continue])).toEqual([
      [3, undefined],
      [3, '3'],
      [3, '6'],
    ]);
    expect(Object.keys(values(informer)).sort()).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-6']);
    expect(informer.hasSynced()).toBe(true);
  });

  it('keeps indexes in step with adds, updates, deletes and relists', async () => {
    await startInformer();
    informer.addIndexer('byValue', (o) => [o.data?.value ?? '']);
    store.put('a', 'x');
    store.put('b', 'x');
    store.put('c', 'y');
    const names = (value: string) =>
      informer
        .byIndex('byValue', value)
        .map((o) => o.metadata.name)
        .sort();
    expect(names('x')).toEqual(['a', 'b']);
    expect([informer.countByIndex('byValue', 'x'), informer.countByIndex('byValue', 'y'), informer.countByIndex('byValue', 'z')]).toEqual([2, 1, 0]);
    expect(() => informer.countByIndex('missing', 'x')).toThrow(/has no index missing/);
    store.put('b', 'y');
    expect(names('x')).toEqual(['a']);
    expect(names('y')).toEqual(['b', 'c']);
    store.remove('c');
    expect(names('y')).toEqual(['b']);

    store.put('a', 'y', true);
    store.remove('b', true);
    store.closeWatch(new StoreError('Gone', 'too old'));
    await settle();
    expect(names('x')).toEqual([]);
    expect(names('y')).toEqual(['a']);
    expect([informer.countByIndex('byValue', 'x'), informer.countByIndex('byValue', 'y')]).toEqual([0, 1]);
  });

  it('re-delivers every cached object as an update each resync period', async () => {
    store.put('a', '1', true);
    store.put('b', '1', true);
    const seen = await startInformer({ resyncPeriodMs: 30_000 });
    seen.length = 0;

    await clock.advance(30_000);
    expect(seen.sort()).toEqual(['update:a:1->1', 'update:b:1->1']);
    await clock.advance(30_000);
    expect(seen).toHaveLength(4);
  });

  it('gives a late handler the cached objects, and survives a throwing handler', async () => {
    store.put('a', '1', true);
    await startInformer();
    informer.addEventHandler({
      onUpdate: () => {
        throw new Error('handler bug');
      },
    });
    const late = recorder();
    const registration = informer.addEventHandler(late.handler);
    store.put('a', '2');
    registration.remove();
    store.put('a', '3');

    expect(late.seen).toEqual(['add:a', 'update:a:1->2']);
    expect(values(informer)).toEqual({ a: '3' });
  });

  it('stops watching when stopped', async () => {
    await startInformer();
    const watch = store.openWatch();
    informer.stop();
    expect(watch.stopped).toBe(true);
    await clock.advance(10 * 60_000);
    expect(store.watches.filter((w) => !w.stopped)).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
