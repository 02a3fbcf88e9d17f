import { containerInstances, validatorFor, type ContainerInstance } from '../api';
import { drainReasonAnnotation } from '../controllers/cluster/node-group-plan';
import { MemoryStore } from '../store/memory/memory-store';
import { changeInstanceStatus } from './drain';

const ns = 'hosts';

async function storeWith(instance: Partial<ContainerInstance['metadata']> = {}, status: 'ACTIVE' | 'DRAINING' = 'ACTIVE'): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  await store.create<ContainerInstance>(containerInstances, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: 'edge-1', namespace: ns, ...instance },
    spec: { cluster: 'prod', registeredResources: { cpu: 1024, memory: 1024 }, status },
  });
  return store;
}

const stored = async (store: MemoryStore) => (await store.get<ContainerInstance>(containerInstances, ns, 'edge-1'))!;

test('drain sets DRAINING, undrain ACTIVE; each a second time changes nothing', async () => {
  const store = await storeWith();
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'drain')).toEqual({ found: true, changed: true });
  expect((await stored(store)).spec.status).toBe('DRAINING');
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'drain')).toEqual({ found: true, changed: false });
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'undrain')).toEqual({ found: true, changed: true });
  expect((await stored(store)).spec.status).toBe('ACTIVE');
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'undrain')).toEqual({ found: true, changed: false });
});

test('a drain by hand of an instance the cluster controller drained removes its mark, so scaling out never reactivates it', async () => {
  const store = await storeWith({ annotations: { [drainReasonAnnotation]: 'scale-in', keep: 'me' } }, 'DRAINING');
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'drain')).toEqual({ found: true, changed: true });
  const instance = await stored(store);
  expect(instance.spec.status).toBe('DRAINING');
  expect(instance.metadata.annotations).toEqual({ keep: 'me' });
});

test('an instance that does not exist is reported as not found', async () => {
  const store = new MemoryStore({ validatorFor });
  expect(await changeInstanceStatus(store, ns, 'edge-1', 'drain')).toEqual({ found: false });
});
