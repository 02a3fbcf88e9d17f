import { clusters, containerInstances, validatorFor, type ContainerInstance } from '../../api';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { registerInstance } from './register';

const ns = 'hosts';
const spec = { cluster: 'prod', nodeGroup: 'edge', attributes: { 'ecs.os-type': 'linux' }, registeredResources: { cpu: 4096, memory: 7961 } };

function cluster(): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'prod', namespace: ns },
    spec: {
      nodeGroups: [
        { name: 'edge', type: 'selfManaged' },
        { name: 'general', type: 'managed', provider: 'simulated', instanceType: { cpu: 1024, memory: 1024 }, scaling: { minSize: 0, maxSize: 2 } },
      ],
    },
  } as KubeObject;
}

async function storeWithCluster(): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  await store.create(clusters, cluster());
  return store;
}

test('registers an ACTIVE instance of the selfManaged group', async () => {
  const store = await storeWithCluster();
  const registered = await registerInstance(store, { namespace: ns, name: 'edge-1' }, spec);
  expect(registered.spec).toEqual({ ...spec, status: 'ACTIVE' });
  expect(registered.metadata.ownerReferences).toBeUndefined();
});

test('a restart updates the instance in place: same uid, new resources, a drain by hand kept', async () => {
  const store = await storeWithCluster();
  const first = await registerInstance(store, { namespace: ns, name: 'edge-1' }, spec);
  await store.patch(containerInstances, ns, 'edge-1', { spec: { status: 'DRAINING' } });
  const again = await registerInstance(store, { namespace: ns, name: 'edge-1' }, { ...spec, registeredResources: { cpu: 3072, memory: 7000 } });
  expect(again.metadata.uid).toBe(first.metadata.uid);
  expect(again.spec.registeredResources).toEqual({ cpu: 3072, memory: 7000 });
  expect(again.spec.status).toBe('DRAINING');
});

test.each([
  [{ ...spec, cluster: 'nope' }, 'cluster "nope" not found in namespace "hosts"'],
  [{ ...spec, nodeGroup: 'nope' }, 'cluster "prod" has no node group "nope"'],
  [{ ...spec, nodeGroup: 'general' }, 'node group "general" of cluster "prod" is managed: berth agent registers hosts of selfManaged node groups only'],
])('refuses to register where it may not: %#', async (target, message) => {
  const store = await storeWithCluster();
  await expect(registerInstance(store, { namespace: ns, name: 'edge-1' }, target)).rejects.toThrow(message);
  expect(await store.get(containerInstances, ns, 'edge-1')).toBeUndefined();
});

test('never takes over an instance a cluster launched', async () => {
  const store = await storeWithCluster();
  const owner = (await store.get<KubeObject>(clusters, ns, 'prod'))!;
  await store.create<ContainerInstance>(containerInstances, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: {
      name: 'prod-general-0',
      namespace: ns,
      ownerReferences: [{ apiVersion: 'berth.dev/v1alpha1', kind: 'Cluster', name: 'prod', uid: owner.metadata.uid!, controller: true }],
    },
    spec: { ...spec, nodeGroup: 'general', status: 'ACTIVE' },
  });
  await expect(registerInstance(store, { namespace: ns, name: 'prod-general-0' }, spec)).rejects.toThrow('was launched by cluster "prod" (a managed instance)');
});
