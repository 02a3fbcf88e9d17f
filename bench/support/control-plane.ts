/**
 * The whole Berth control plane in the bench process, as `berth operator` and `berth local` run it
 * (Manager, every controller, in-process agents), on a store the case chooses and wrapped in a
 * CountingStore. Running it in-process is what lets a case register its own handlers on the very
 * informers the controllers use, read the heap, and count writes without touching src/.
 */
import type Dockerode from 'dockerode';
import { AgentHost } from '../../src/agent/agent-host';
import { inProcessInstanceProviders, type InstanceProviderOptions } from '../../src/agent/instance-providers';
import { addControllers } from '../../src/controllers';
import { nodeInstanceProvider } from '../../src/agent/node-instances';
import { eventually } from '../../src/runtime/eventually';
import { createLogger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import type { ObjectStore } from '../../src/store/object-store';
import { CountingStore } from './counting-store';

export interface ControlPlaneOptions {
  store: ObjectStore;
  /** The controllers watch this namespace only, as `berth operator --namespace` does. */
  namespace: string;
  /** Timings of simulated instances. */
  simulated?: InstanceProviderOptions['simulated'];
  /** The engine of `provider: local` instances. */
  docker?: Dockerode;
  /** How often each instance's agent renews its heartbeat Lease; the agent's own default (10 s) when absent. */
  leaseRenewIntervalMs?: number;
  /** Serve node groups of Nodes (tasks as Pods), as berth operator does on a cluster. */
  nodes?: boolean;
  /** Runs before the manager starts: where a case adds its own handlers or controllers beside Berth's. */
  configure?: (manager: Manager, store: CountingStore) => void;
}

export interface ControlPlane {
  manager: Manager;
  /** The store the control plane writes through: its counts are the control plane's writes only. */
  store: CountingStore;
  /** Reconcile workers of the controllers named, once started (summed; every instance agent sets the one `agent` gauge to its own workers). */
  workers(controllers: string[]): Promise<number>;
  /** Reconciles so far per controller and result (success, error, requeue_after), from controller_runtime_reconcile_total. */
  reconciles(): Promise<Record<string, Record<string, number>>>;
  stop(): Promise<void>;
}

export function startControlPlane(options: ControlPlaneOptions): ControlPlane {
  const store = new CountingStore(options.store);
  // Only what goes wrong reaches stderr: at 10,000 tasks anything chattier drowns the bench's own lines.
  const logger = createLogger({ level: 'error', stream: process.stderr });
  const manager = new Manager({ store, logger, metricsServer: false, healthServer: false });
  const host = new AgentHost({
    manager,
    namespace: options.namespace,
    ...(options.leaseRenewIntervalMs !== undefined ? { leaseRenewIntervalMs: options.leaseRenewIntervalMs } : {}),
  });
  const providers = inProcessInstanceProviders(host, {
    ...(options.docker ? { docker: options.docker } : {}),
    ...(options.simulated ? { simulated: options.simulated } : {}),
    logger,
  });
  addControllers(manager, {
    namespace: options.namespace,
    instanceProviders: providers,
    ...(options.nodes && { nodeInstances: nodeInstanceProvider({ manager, host, namespace: options.namespace, podLevelResources: false }) }),
  });
  options.configure?.(manager, store);
  const running = manager.start();

  let stopped: Promise<void> | undefined;
  return {
    manager,
    store,
    workers: async (controllers) => {
      // Controllers set this gauge as their workers start, once every informer has synced.
      const started = () =>
        manager.metrics.maxConcurrentReconciles.get().then(({ values }) => {
          const byController = new Map(values.map((v) => [String(v.labels.controller), v.value]));
          return controllers.every((c) => byController.has(c)) && controllers.reduce((sum, c) => sum + byController.get(c)!, 0);
        });
      return eventually(started, `controllers ${controllers.join(', ')} to start`, { timeoutMs: 60_000, intervalMs: 50 });
    },
    reconciles: async () => {
      const counts: Record<string, Record<string, number>> = {};
      for (const { labels, value } of (await manager.metrics.reconcileTotal.get()).values) {
        (counts[String(labels.controller)] ??= {})[String(labels.result)] = value;
      }
      return counts;
    },
    stop: () =>
      (stopped ??= (async () => {
        await host.stop({ removeContainers: true });
        await manager.stop();
        await running;
      })()),
  };
}
