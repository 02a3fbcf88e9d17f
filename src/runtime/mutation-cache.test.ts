import { settle } from './clock';
import { SharedInformer } from './informer';
import { MutationCache } from './mutation-cache';
import { configMap, configMapType, type ConfigMap } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';

describe('MutationCache', () => {
  let store: MemoryStore;
  let informer: SharedInformer<ConfigMap>;
  let cache: MutationCache<ConfigMap>;

  beforeEach(async () => {
    store = new MemoryStore();
    informer = new SharedInformer<ConfigMap>(store, configMapType);
    informer.start();
    await informer.waitForSync();
    cache = new MutationCache(informer);
  });

  afterEach(() => informer.stop());

  it('serves what this controller wrote until the informer catches up, then the informer again', async () => {
    const created = await store.create(configMapType, configMap('ns', 'a', { v: '1' }));
    await settle();
    const written = await store.update(configMapType, { ...created, data: { v: '2' } });
    cache.mutated(written);
    // The watch event has not been delivered yet (delivery is asynchronous).
    expect(informer.get('ns', 'a')?.data).toEqual({ v: '1' });
    expect(cache.get('ns', 'a')?.data).toEqual({ v: '2' });

    await settle();
    expect(informer.get('ns', 'a')?.data).toEqual({ v: '2' });
    expect(cache.get('ns', 'a')).toBe(informer.get('ns', 'a'));
  });

  it('prefers a newer copy from the informer, written by someone else', async () => {
    const created = await store.create(configMapType, configMap('ns', 'a', { v: '1' }));
    cache.mutated(created);
    await store.update(configMapType, { ...created, data: { v: 'theirs' } });
    await settle();
    expect(cache.get('ns', 'a')?.data).toEqual({ v: 'theirs' });
  });

  it('lets a deletion the informer has seen win over an older write', async () => {
    const created = await store.create(configMapType, configMap('ns', 'a'));
    cache.mutated(created);
    await store.delete(configMapType, 'ns', 'a');
    await settle();
    expect(cache.get('ns', 'a')).toBeUndefined();
  });
});
