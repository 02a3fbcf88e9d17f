import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../src/runtime/logger';
import { LeaderElectionLostError, Manager } from '../../src/runtime/manager';
import { configMaps, leases } from '../../src/store/builtin-types';
import { KubeStore } from '../../src/store/kube/kube-store';
import type { KubeObject } from '../../src/store/object-store';
import { kubectl, kubectlOk, testEnv } from '../env/env';
import { eventually } from '../../src/runtime/eventually';

/** Two runtimes, one Lease on the real API server: one leads, and hands over on shutdown. */

const namespace = `lease-${Date.now().toString(36)}`;
const store = () => {
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  return new KubeStore(config);
};

function replica(identity: string, reconciled: string[]): { manager: Manager; running: Promise<void> } {
  const manager = new Manager({
    store: store(),
    logger: silentLogger(),
    metricsServer: false,
    healthServer: false,
    leaderElection: { namespace, name: 'berth-operator', identity, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250 },
  });
  const informer = manager.informerFor(configMaps, namespace);
  manager.addController({ name: 'probe', reconcile: async (key) => void reconciled.push(key.name) }).watch(informer);
  const running = manager.start().catch((error: unknown) => {
    if (!(error instanceof LeaderElectionLostError)) throw error;
  });
  return { manager, running };
}

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('only the leader reconciles; a graceful stop hands the lease over at once', async () => {
  const seenByA: string[] = [];
  const seenByB: string[] = [];
  const a = replica('replica-a', seenByA);
  await eventually(() => a.manager.isLeader(), 'replica-a to lead');
  const b = replica('replica-b', seenByB);

  await kubectlOk(['create', 'configmap', 'first', '-n', namespace]);
  await eventually(() => seenByA.includes('first'), 'the leader to reconcile');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(seenByB).toEqual([]);
  expect(b.manager.isLeader()).toBe(false);

  const handoverStarted = Date.now();
  await a.manager.stop();
  await a.running;
  await eventually(() => b.manager.isLeader(), 'replica-b to take over');
  // Released on shutdown: no need to wait out the 3 s lease.
  expect(Date.now() - handoverStarted).toBeLessThan(2500);

  await kubectlOk(['create', 'configmap', 'second', '-n', namespace]);
  await eventually(() => seenByB.includes('second'), 'the new leader to reconcile');
  const lease = await store().get<KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } }>(leases, namespace, 'berth-operator');
  expect(lease?.spec.holderIdentity).toBe('replica-b');
  expect(lease?.spec.leaseTransitions).toBeGreaterThanOrEqual(1);

  await b.manager.stop();
  await b.running;
});
