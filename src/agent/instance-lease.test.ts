import { validatorFor, type ContainerInstance } from '../api';
import { instanceLeaseName } from '../api/v1alpha1/container-instance';
import { FakeClock } from '../runtime/clock';
import type { Lease } from '../runtime/leader-election';
import { silentLogger } from '../runtime/logger';
import { leases } from '../store/builtin-types';
import { MemoryStore } from '../store/memory/memory-store';
import { InstanceLease } from './instance-lease';

// An instance's name can be as long as any object's (a long Cluster name, hash-shortened to 253), but a
// label value holds 63 characters: the Lease's label once carried the whole name, and the API server
// refused every renewal of such an instance, which then never counted as connected.
test('the heartbeat Lease of an instance with a 250-character name is written, its label cut to 63 characters', async () => {
  const store = new MemoryStore({ validatorFor });
  const name = `${'c'.repeat(236)}-general-0`;
  const instance = {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name, namespace: 'ns', uid: 'instance-uid' },
    spec: {},
  } as unknown as ContainerInstance;
  const lease = new InstanceLease(instance, { store, clock: new FakeClock(), log: silentLogger(), holder: 'agent' });
  await lease.start();
  lease.stop();

  const written = await store.get<Lease>(leases, 'ns', instanceLeaseName(name));
  expect(written?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ContainerInstance', name, controller: true });
  const label = written?.metadata.labels?.['berth.dev/container-instance'] ?? '';
  expect(label.length).toBeLessThanOrEqual(63);
  expect(label.startsWith('c')).toBe(true);
});
