import { FakeClock, settle } from './clock';
import { Lease, LeaderElector, microTime } from './leader-election';
import { leases as leaseType } from '../store/builtin-types';
import { createRegistry, RuntimeMetrics } from './metrics';
import { PartitionableStore } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';
import { ObjectStore } from '../store/object-store';

/** One replica: an elector with client-go's default timings on the fake clock. */
class Replica {
  readonly metrics = new RuntimeMetrics(createRegistry({ processMetrics: false }));
  readonly elector: LeaderElector;
  readonly history: string[] = [];
  private readonly abort = new AbortController();
  outcome: 'lost' | 'cancelled' | undefined;

  constructor(store: ObjectStore, identity: string, clock: FakeClock, releaseOnCancel = false) {
    this.elector = new LeaderElector(
      { store, namespace: 'berth-system', name: 'berth-operator', identity, clock, metrics: this.metrics, releaseOnCancel },
      { onStartedLeading: () => this.history.push('started'), onStoppedLeading: () => this.history.push('stopped') },
    );
    void this.elector.run(this.abort.signal).then((outcome) => (this.outcome = outcome));
  }

  stop(): void {
    this.abort.abort();
  }

  async masterStatus(): Promise<number | undefined> {
    const metric = await this.metrics.registry.getSingleMetric('leader_election_master_status')!.get();
    return metric.values.find((v) => v.labels.name === 'berth-operator')?.value;
  }
}

describe('LeaderElector', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  const replicas: Replica[] = [];

  beforeEach(() => {
    clock = new FakeClock();
    store = new MemoryStore();
  });

  afterEach(async () => {
    replicas.splice(0).forEach((replica) => replica.stop());
    await clock.advance(1000);
  });

  function replica(identity: string, options: { store?: ObjectStore; releaseOnCancel?: boolean } = {}): Replica {
    const created = new Replica(options.store ?? store, identity, clock, options.releaseOnCancel);
    replicas.push(created);
    return created;
  }

  const lease = (): Promise<Lease | undefined> => store.get<Lease>(leaseType, 'berth-system', 'berth-operator');

  it('formats MicroTime as the API server does', () => {
    expect(microTime(Date.parse('2006-01-02T15:04:05.123Z'))).toBe('2006-01-02T15:04:05.123000Z');
  });

  it('creates the Lease when absent and renews it every retry period', async () => {
    const a = replica('a');
    await settle();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.history).toEqual(['started']);
    expect(await a.masterStatus()).toBe(1);
    const created = (await lease())!.spec!;
    expect(created).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: microTime(clock.now()) });

    await clock.advance(2000);
    const renewed = (await lease())!.spec!;
    expect(renewed.renewTime).toBe(microTime(clock.now()));
    expect(renewed.acquireTime).toBe(created.acquireTime);
  });

  it('a second candidate waits while the leader renews', async () => {
    const a = replica('a');
    await settle();
    const b = replica('b');
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(await b.masterStatus()).toBe(0);
    expect((await lease())!.spec!.holderIdentity).toBe('a');
  });

  it('takes over a crashed leader only once the lease expired by its own observation', async () => {
    const a = replica('a');
    await settle();
    const b = replica('b');
    await clock.advance(4000);
    const lastRenewal = clock.now();
    a.stop(); // no release: as if the process died after its last renewal

    await clock.advance(14_999);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2001);
    expect(b.elector.isLeader()).toBe(true);
    expect(clock.now() - lastRenewal).toBeGreaterThanOrEqual(15_000);
    expect((await lease())!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(a.history).toEqual(['started', 'stopped']);
    expect(a.outcome).toBe('cancelled');
  });

  it('hands over at once when the leader releases the lease on shutdown', async () => {
    const a = replica('a', { releaseOnCancel: true });
    await settle();
    const b = replica('b');
    await clock.advance(4000);
    a.stop();
    await settle();
    expect((await lease())!.spec!.holderIdentity).toBeUndefined();

    await clock.advance(2000);
    expect(b.elector.isLeader()).toBe(true);
    expect((await lease())!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it.each(['fail', 'hang'] as const)('a leader cut off from the API (%s) refuses writes before anyone else can lead', async (mode) => {
    const partition = new PartitionableStore(store);
    const a = replica('a', { store: partition.store });
    await settle();
    const b = replica('b');
    await settle();

    partition.cut = mode;
    await clock.advance(9_999);
    expect(a.elector.isLeader()).toBe(true);
    await clock.advance(1);
    // renewDeadline passed since the last renewal: the guard refuses writes from now on.
    expect(a.elector.isLeader()).toBe(false);
    await clock.advance(2000);
    expect(a.outcome).toBe('lost');
    expect(a.history).toEqual(['started', 'stopped']);
    expect(await a.masterStatus()).toBe(0);
    expect(b.elector.isLeader()).toBe(false);

    await clock.advance(4000);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('a leader frozen for longer than the lease refuses writes on waking and reports unhealthy', async () => {
    const a = replica('a');
    await settle();
    expect(a.elector.healthError(20_000)).toBeUndefined();

    clock.jump(36_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.elector.healthError(20_000)).toMatch(/not renewed for 36000 ms/);
    expect(a.elector.healthError(30_000)).toBeUndefined();
  });
});
