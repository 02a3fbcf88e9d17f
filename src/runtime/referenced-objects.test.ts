import { realClock, settle } from './clock';
import { silentLogger } from './logger';
import { ReferencedObjects } from './referenced-objects';
import { configMap, configMapType, type ConfigMap } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';
import type { ListOptions, ObjectStore, WatchOptions } from '../store/object-store';

describe('ReferencedObjects', () => {
  let store: MemoryStore;
  let requests: { verb: string; selector?: string }[];
  let watching: ObjectStore;
  let cache: ReferencedObjects<ConfigMap>;

  beforeEach(() => {
    store = new MemoryStore();
    requests = [];
    // Records what is listed and watched: only referenced names, never the whole resource.
    watching = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'list' && property !== 'watch') return value;
        return (type: never, namespace: string, options: ListOptions | WatchOptions, ...rest: unknown[]) => {
          requests.push({ verb: property, selector: options?.fieldSelector });
          return (value as (...a: unknown[]) => unknown).call(target, type, namespace, options, ...rest);
        };
      },
    });
    cache = new ReferencedObjects<ConfigMap>(watching, configMapType, { clock: realClock, logger: silentLogger() });
    cache.start();
  });

  afterEach(() => cache.stop());

  it('watches only what is referenced, knows a missing object as missing, and follows it when it appears', async () => {
    await store.create(configMapType, configMap('ns', 'unrelated', { secret: 'never read' }));
    const changes: string[] = [];
    cache.onChange((ref) => changes.push(ref.name));
    cache.setReferences('td:web', [{ namespace: 'ns', name: 'settings' }]);
    expect(cache.lookup('ns', 'settings')).toBeUndefined();
    await settle();
    expect(cache.lookup('ns', 'settings')).toEqual({ object: undefined });
    expect(changes).toEqual(['settings']);

    await store.create(configMapType, configMap('ns', 'settings', { level: 'debug' }));
    await settle();
    expect(cache.lookup('ns', 'settings')?.object?.data).toEqual({ level: 'debug' });
    expect(changes).toEqual(['settings', 'settings']);
    expect(cache.lookup('ns', 'unrelated')).toBeUndefined();
    expect(requests.every((r) => r.selector === 'metadata.name=settings')).toBe(true);
  });

  it('keeps a watch while any owner needs it, and closes it with the last', async () => {
    cache.setReferences('td:web', [{ namespace: 'ns', name: 'shared' }]);
    cache.setReferences('task:1', [{ namespace: 'ns', name: 'shared' }]);
    await settle();
    expect(cache.lookup('ns', 'shared')).toEqual({ object: undefined });
    cache.setReferences('td:web', []);
    expect(cache.lookup('ns', 'shared')).toEqual({ object: undefined });
    cache.setReferences('task:1', []);
    expect(cache.lookup('ns', 'shared')).toBeUndefined();
  });
});
