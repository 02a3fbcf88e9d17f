import { KubeConfig } from '@kubernetes/client-node';
import { AgentHost } from '../agent/agent-host';
import { inProcessInstanceProviders } from '../agent/instance-providers';
import { addControllers } from '../controllers';
import { createLogger } from '../runtime/logger';
import { LeaderElectionLostError, Manager } from '../runtime/manager';
import { KubeStore } from '../store/kube/kube-store';
import { parseBindAddress } from './bind-address';

export interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  /** Leader election timings; the LeaderElector's defaults (15 s / 10 s / 2 s) when absent. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  /** How long the tasks of a disconnected instance wait for its agent before they are stopped; 5 m when absent. */
  disconnectedInstanceGraceMs?: number;
}

/**
 * `berth operator`: the controllers against the Kubernetes API. Runs in a pod (in-cluster config)
 * or beside a cluster (--kubeconfig, else $KUBECONFIG or ~/.kube/config).
 */
export async function runOperator(flags: OperatorFlags): Promise<number> {
  const logger = createLogger();
  const config = new KubeConfig();
  if (flags.kubeconfig) config.loadFromFile(flags.kubeconfig);
  else config.loadFromDefault();
  const leaseNamespace = flags.leaderElectionNamespace ?? process.env.POD_NAMESPACE ?? 'berth-system';
  const manager = new Manager({
    store: new KubeStore(config),
    logger,
    metricsServer: parseBindAddress('metrics-bind-address', flags.metricsBindAddress),
    healthServer: parseBindAddress('health-probe-bind-address', flags.healthProbeBindAddress),
    leaderElection: flags.leaderElect
      ? {
          namespace: leaseNamespace,
          name: 'berth-operator',
          leaseDurationMs: flags.leaseDurationMs,
          renewDeadlineMs: flags.renewDeadlineMs,
          retryPeriodMs: flags.retryPeriodMs,
        }
      : false,
  });
  // Managed node groups with provider local or simulated get in-process agents on this replica (the leader).
  const agents = new AgentHost({ manager, namespace: flags.namespace });
  addControllers(manager, {
    namespace: flags.namespace,
    disconnectedInstanceGraceMs: flags.disconnectedInstanceGraceMs,
    instanceProviders: inProcessInstanceProviders(agents, { logger: logger.child({ component: 'runtime' }) }),
  });

  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown.abort());
  logger.info('starting operator', { server: config.getCurrentCluster()?.server, namespace: flags.namespace ?? '(all)', leaderElect: flags.leaderElect });
  try {
    await manager.start(shutdown.signal);
    await agents.stop();
    return 0;
  } catch (error) {
    // Losing the lease ends the process, as in controller-runtime: the pod restarts as a clean candidate.
    logger.error(error instanceof LeaderElectionLostError ? 'leader election lost: exiting' : 'operator failed', { error: (error as Error).message });
    return 1;
  }
}
