import { request } from 'node:http';
import { Writable } from 'node:stream';
import { settle } from './clock';
import { LeadershipLostError } from './leader-guarded-store';
import { Lease } from './leader-election';
import { leases as leaseType, secrets as secretType } from '../store/builtin-types';
import { LeaderElectionLostError, Manager } from './manager';
import { createRegistry } from './metrics';
import { ObjectKey } from './object-key';
import { createLogger, silentLogger } from './logger';
import { ConfigMap, configMap, configMapType, PartitionableStore, waitFor } from './testing/fixtures';
import { MemoryStore } from '../store/memory/memory-store';
import { ObjectStore } from '../store/object-store';

const leaseMs = 400;

/** One operator replica: a manager whose controller stamps each ConfigMap with who reconciled it. */
class Replica {
  readonly manager: Manager;
  readonly reconciled: ObjectKey[] = [];
  readonly run: Promise<void>;
  outcome: 'running' | 'stopped' | Error = 'running';

  constructor(identity: string, store: ObjectStore, releaseOnCancel: boolean) {
    this.manager = new Manager({
      store,
      logger: silentLogger(),
      registry: createRegistry({ processMetrics: false }),
      metricsServer: false,
      healthServer: false,
      leaderElection: {
        namespace: 'berth-system',
        name: 'berth-operator',
        identity,
        leaseDurationMs: leaseMs,
        renewDeadlineMs: 300,
        retryPeriodMs: 50,
        releaseOnCancel,
      },
    });
    const informer = this.manager.informerFor<ConfigMap>(configMapType);
    this.manager
      .addController({
        name: 'stamp',
        reconcile: async (key) => {
          this.reconciled.push(key);
          const cached = informer.get(key.namespace, key.name);
          if (cached && cached.data?.reconciledBy !== identity) {
            await this.manager.store.patch(configMapType, key.namespace, key.name, { data: { reconciledBy: identity } });
          }
        },
      })
      .watch(informer);
    this.run = this.manager.start().then(
      () => void (this.outcome = 'stopped'),
      (error: Error) => void (this.outcome = error),
    );
  }
}

describe('Manager', () => {
  let store: MemoryStore;
  const replicas: Replica[] = [];

  beforeEach(() => {
    store = new MemoryStore();
  });

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.manager.stop()));
  });

  function replica(identity: string, options: { store?: ObjectStore; releaseOnCancel?: boolean } = {}): Replica {
    const created = new Replica(identity, options.store ?? store, options.releaseOnCancel ?? true);
    replicas.push(created);
    return created;
  }

  const stampOf = async (name: string): Promise<string | undefined> => (await store.get<ConfigMap>(configMapType, 'ns', name))?.data?.reconciledBy;
  const holder = async (): Promise<string | undefined> => (await store.get<Lease>(leaseType, 'berth-system', 'berth-operator'))?.spec?.holderIdentity;

  async function leaderAndFollower(options: { store?: ObjectStore; releaseOnCancel?: boolean } = {}): Promise<[Replica, Replica]> {
    const a = replica('a', options);
    await waitFor(() => a.manager.isLeader(), 2000, 'a to lead');
    const b = replica('b', { releaseOnCancel: options.releaseOnCancel });
    await store.create(configMapType, configMap('ns', 'one'));
    await waitFor(async () => (await stampOf('one')) === 'a', 2000, 'a to reconcile');
    return [a, b];
  }

  it('with two replicas on one lease, only the leader reconciles', async () => {
    const [a, b] = await leaderAndFollower();
    await store.create(configMapType, configMap('ns', 'two'));
    await waitFor(async () => (await stampOf('two')) === 'a', 2000, 'a to reconcile two');
    await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs));

    expect(a.reconciled.length).toBeGreaterThanOrEqual(2);
    expect(b.reconciled).toEqual([]);
    expect(b.manager.isLeader()).toBe(false);
    expect(await holder()).toBe('a');
  });

  it('after the leader crashes, the follower takes over once the lease expired and reconciles', async () => {
    const [a, b] = await leaderAndFollower({ releaseOnCancel: false });
    const crashedAt = Date.now();
    await a.manager.stop();
    await store.create(configMapType, configMap('ns', 'after-crash'));

    await waitFor(async () => (await stampOf('after-crash')) === 'b', 3000, 'b to take over');
    // b saw the last renewal at most one retry period before the crash, and waits a full lease from then.
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(leaseMs - 50);
    expect(await holder()).toBe('b');
    expect(new Set(b.reconciled.map((key) => key.name))).toEqual(new Set(['after-crash', 'one']));
  });

  it('after a graceful shutdown that releases the lease, the follower takes over at once', async () => {
    const [a, b] = await leaderAndFollower({ releaseOnCancel: true });
    await a.manager.stop();
    const stoppedAt = Date.now();
    await store.create(configMapType, configMap('ns', 'after-release'));

    await waitFor(async () => (await stampOf('after-release')) === 'b', 3000, 'b to take over');
    expect(Date.now() - stoppedAt).toBeLessThan(leaseMs);
    expect(a.outcome).toBe('stopped');
    expect(b.manager.isLeader()).toBe(true);
  });

  it('a deposed leader stops its controllers, its writes are refused, and start() rejects', async () => {
    const partition = new PartitionableStore(store);
    const [a, b] = await leaderAndFollower({ store: partition.store });
    partition.cut = 'fail';

    await waitFor(() => a.outcome !== 'running', 2000, 'a to step down');
    expect(a.outcome).toBeInstanceOf(LeaderElectionLostError);
    partition.cut = 'no';
    await expect(a.manager.store.create(configMapType, configMap('ns', 'from-deposed'))).rejects.toBeInstanceOf(LeadershipLostError);
    expect(await store.get(configMapType, 'ns', 'from-deposed')).toBeUndefined();

    await waitFor(() => b.manager.isLeader(), 2000, 'b to lead');
    await store.create(configMapType, configMap('ns', 'later'));
    await waitFor(async () => (await stampOf('later')) === 'b', 2000, 'b to reconcile');
    expect(a.reconciled.map((key) => key.name)).not.toContain('later');
  });

  it('without leader election, runs controllers at once and drains the reconcile in flight on stop', async () => {
    let release: () => void = () => {};
    let started = false;
    let finished = false;
    const manager = new Manager({
      store,
      logger: silentLogger(),
      registry: createRegistry({ processMetrics: false }),
      metricsServer: false,
      healthServer: false,
    });
    manager
      .addController({
        name: 'slow',
        reconcile: async () => {
          started = true;
          await new Promise<void>((resolve) => (release = resolve));
          await manager.store.patch(configMapType, 'ns', 'one', { data: { done: 'yes' } });
          finished = true;
        },
      })
      .watch(manager.informerFor<ConfigMap>(configMapType));
    const run = manager.start();
    await store.create(configMapType, configMap('ns', 'one'));
    await waitFor(() => started, 2000, 'the reconcile to start');

    const stopped = manager.stop();
    release();
    await stopped;
    await run;
    expect(finished).toBe(true);
    expect((await store.get<ConfigMap>(configMapType, 'ns', 'one'))?.data).toEqual({ done: 'yes' });
  });

  it('starts no controller until every informer has synced, including those no controller watches', async () => {
    await store.create(configMapType, configMap('ns', 'a'));
    let releaseSecrets!: () => void;
    const secretsListed = new Promise<void>((resolve) => (releaseSecrets = resolve));
    const slowSecrets = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'list' || typeof value !== 'function') return value;
        return async (...args: Parameters<ObjectStore['list']>) => {
          if (args[0] === secretType) await secretsListed;
          return (value as ObjectStore['list']).apply(target, args);
        };
      },
    });
    const manager = new Manager({ store: slowSecrets, logger: silentLogger(), metricsServer: false, healthServer: false });
    const configMaps = manager.informerFor<ConfigMap>(configMapType);
    const secrets = manager.informerFor(secretType);
    const reconciledWith: number[] = [];
    manager
      .addController({
        name: 'reader',
        reconcile: async () => {
          reconciledWith.push(secrets.hasSynced() ? 1 : 0);
        },
      })
      .watch(configMaps);
    const run = manager.start();
    await waitFor(() => configMaps.hasSynced(), 2000, 'the watched informer to sync');
    // Ample rounds for a started controller to take the key and reconcile it.
    await settle(50);
    expect(reconciledWith).toEqual([]);

    releaseSecrets();
    await waitFor(() => reconciledWith.length > 0, 2000, 'the first reconcile');
    expect(reconciledWith).toEqual([1]);
    await manager.stop();
    await run;
  });

  it('stops promptly while an informer never syncs', async () => {
    const neverLists = new Proxy(store, {
      get: (target, property, receiver) => (property === 'list' ? () => new Promise(() => undefined) : (Reflect.get(target, property, receiver) as unknown)),
    });
    const manager = new Manager({ store: neverLists, logger: silentLogger(), metricsServer: false, healthServer: false });
    manager.addController({ name: 'never', reconcile: async () => undefined }).watch(manager.informerFor<ConfigMap>(configMapType));
    const run = manager.start();
    await manager.stop();
    await run;
  });

  it('serves controller-runtime metrics on /metrics and probes on /healthz and /readyz', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
    const manager = new Manager({
      store,
      logger: createLogger({ level: 'info', stream }),
      metricsServer: { host: '127.0.0.1', port: 0 },
      healthServer: { host: '127.0.0.1', port: 0 },
      leaderElection: {
        namespace: 'berth-system',
        name: 'berth-operator',
        identity: 'solo',
        leaseDurationMs: leaseMs,
        renewDeadlineMs: 300,
        retryPeriodMs: 50,
      },
    });
    let failOnce = true;
    manager
      .addController({
        name: 'configmaps',
        reconcile: async () => {
          if (failOnce) {
            failOnce = false;
            throw new Error('first attempt fails');
          }
        },
      })
      .watch(manager.informerFor<ConfigMap>(configMapType));
    const run = manager.start();
    await store.create(configMapType, configMap('ns', 'one'));
    await waitFor(async () => (await manager.registry.metrics()).includes('result="success"'), 2000, 'a successful reconcile');

    // Asked for port 0, the operator says which port it bound: how anyone finds its /metrics.
    const serving = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'serving metrics');
    expect(serving).toMatchObject({ address: `127.0.0.1:${manager.metricsServer!.port}`, path: '/metrics' });
    const metrics = await get(manager.metricsServer!.port, '/metrics');
    expect(metrics.status).toBe(200);
    for (const expected of [
      'controller_runtime_reconcile_total{controller="configmaps",result="success"} 1',
      'controller_runtime_reconcile_total{controller="configmaps",result="error"} 1',
      'controller_runtime_reconcile_errors_total{controller="configmaps"} 1',
      'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="configmaps"}',
      'controller_runtime_active_workers{controller="configmaps"} 0',
      'controller_runtime_max_concurrent_reconciles{controller="configmaps"} 1',
      'workqueue_depth{name="configmaps",controller="configmaps"} 0',
      'workqueue_adds_total{name="configmaps",controller="configmaps"}',
      'workqueue_retries_total{name="configmaps",controller="configmaps"} 1',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'workqueue_unfinished_work_seconds{name="configmaps",controller="configmaps"} 0',
      'workqueue_longest_running_processor_seconds{name="configmaps",controller="configmaps"} 0',
      'leader_election_master_status{name="berth-operator"} 1',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(metrics.body).toContain(expected);
    }

    expect(await get(manager.healthServer!.port, '/healthz')).toEqual({ status: 200, body: '[+]ping ok\n[+]leaderElection ok\nhealthz check passed\n' });
    expect(await get(manager.healthServer!.port, '/readyz')).toEqual({ status: 200, body: '[+]informers ok\nreadyz check passed\n' });
    expect((await get(manager.healthServer!.port, '/nope')).status).toBe(404);

    await manager.stop();
    await run;
    await expect(get(manager.metricsServer!.port, '/metrics')).rejects.toThrow();
  });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method: 'GET' }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}
