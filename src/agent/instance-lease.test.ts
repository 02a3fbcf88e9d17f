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

/** The heartbeat is renewed only while the instance's engine answers: an agent without its engine is disconnected, as in ECS. */

const instance: ContainerInstance = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ContainerInstance',
  metadata: { namespace: 'ns', name: 'c-general-0', uid: 'uid-1' },
  spec: { cluster: 'c' },
} as ContainerInstance;

describe('InstanceLease', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let lease: InstanceLease | undefined;

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore({ validatorFor });
  });
  afterEach(() => lease?.stop());

  const renewTime = async () => (await store.get<Lease>(leases, 'ns', instanceLeaseName('c-general-0')))?.spec?.renewTime;

  function start(engineAnswers: () => Promise<unknown>): Promise<void> {
    lease = new InstanceLease(instance, { store, clock, log: silentLogger(), holder: 'agent', renewIntervalMs: 10_000, durationSeconds: 40, engineAnswers });
    return lease.start();
  }

  test('is not renewed while the engine is unreachable, and is renewed again at the first tick after it answers', async () => {
    let engineUp = true;
    await start(() => (engineUp ? Promise.resolve('20.10') : Promise.reject(Object.assign(new Error('connect ENOENT docker.sock'), { code: 'ENOENT' }))));
    const first = await renewTime();
    expect(first).toBe('2025-01-01T00:00:00.000000Z');

    engineUp = false;
    await clock.advance(50_000); // 5 ticks without an engine: the Lease lapses (40 s)
    expect(await renewTime()).toBe(first);

    engineUp = true;
    await clock.advance(10_000);
    expect(await renewTime()).toBe('2025-01-01T00:01:00.000000Z');
  });

  test('an engine that does not answer within a renewal interval counts as unreachable, and the ticks go on', async () => {
    let hang = false;
    await start(() => (hang ? new Promise(() => undefined) : Promise.resolve('20.10')));
    hang = true;
    await clock.advance(50_000);
    expect(await renewTime()).toBe('2025-01-01T00:00:00.000000Z');
    hang = false;
    await clock.advance(20_000);
    expect(Date.parse((await renewTime())!.replace(/(\.\d{3})\d*Z$/, '$1Z'))).toBeGreaterThan(Date.parse('2025-01-01T00:00:50Z'));
  });
});
