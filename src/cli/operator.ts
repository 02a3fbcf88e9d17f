import { KubeConfig } from '@kubernetes/client-node';
import { serveWebhook, validatePath } from '../admission/webhook-server';
import { whoAmI } from '../store/kube/who-am-i';
import { AgentHost } from '../agent/agent-host';
import { inProcessInstanceProviders, runtimeFactories } from '../agent/instance-providers';
import { fargatePodRuntimes, nodeInstanceProvider } from '../agent/node-instances';
import { podLevelResourcesKept } from '../agent/runtime/kubernetes/pod-level-resources';
import { addControllers } from '../controllers';
import { createLogger } from '../runtime/logger';
import { LeaderElectionLostError, Manager } from '../runtime/manager';
import { KubeStore } from '../store/kube/kube-store';
import { RestClient } from '../store/kube/rest-client';
import { KubeExternalMetrics } from '../store/kube/external-metrics';
import { KubeScaleTargets } from '../store/kube/scale-targets';
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
  /** Auto scaling's datapoint period, and how often task usage is reported; 1 minute when absent. */
  metricsPeriodMs?: number;
  /** The validating admission webhook: off when bindAddress is `0`; its Service, Secret and configuration in the pod's namespace. */
  webhook?: { bindAddress: string; service: string; secret: string; configuration: string };
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
  // The webhook writes its Secret from every replica, so it gets the store itself, not the manager's leader-guarded one.
  const store = new KubeStore(config);
  const rest = new RestClient(config);
  const manager = new Manager({
    store,
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
  const runtimeLogger = logger.child({ component: 'runtime' });
  // Node groups of Nodes and Fargate profiles with pod settings: their tasks run as Pods. Task-level cpu and
  // memory go on the Pod itself where the API server keeps them.
  const podLevelResources = await podLevelResourcesKept(config, flags.namespace ?? 'default').catch((error: Error) => {
    logger.warn('could not tell whether the API server keeps pod-level resources; spreading task sizes over containers', { error: error.message });
    return false;
  });
  const agents = new AgentHost({
    manager,
    namespace: flags.namespace,
    fargateRuntime: runtimeFactories({ logger: runtimeLogger }).docker,
    fargatePods: fargatePodRuntimes({ manager, podLevelResources }),
    metricsPeriodMs: flags.metricsPeriodMs,
  });
  addControllers(manager, {
    namespace: flags.namespace,
    disconnectedInstanceGraceMs: flags.disconnectedInstanceGraceMs,
    metricsPeriodMs: flags.metricsPeriodMs,
    instanceProviders: inProcessInstanceProviders(agents, { logger: runtimeLogger }),
    nodeInstances: nodeInstanceProvider({ manager, host: agents, namespace: flags.namespace, podLevelResources }),
    scaleTargets: new KubeScaleTargets(rest, manager.store),
    externalMetrics: new KubeExternalMetrics(rest),
  });

  // Every replica serves the webhook, leader or not: the API server calls whichever the Service picks.
  const webhookAddress = flags.webhook ? parseBindAddress('webhook-bind-address', flags.webhook.bindAddress) : false;
  const webhook =
    webhookAddress && flags.webhook
      ? await serveWebhook(
          {
            store,
            identity: {
              namespace: leaseNamespace,
              secretName: flags.webhook.secret,
              serviceName: flags.webhook.service,
              configurationName: flags.webhook.configuration,
            },
            logger: logger.child({ component: 'webhook' }),
            // Only this operator's own user may admit a task: whoever it is in this cluster.
            scheduler: await whoAmI(rest),
          },
          webhookAddress,
        )
      : undefined;
  if (webhook) logger.info('serving the admission webhook', { address: `${webhook.host}:${webhook.port}`, path: validatePath });

  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown.abort());
  logger.info('starting operator', { server: config.getCurrentCluster()?.server, namespace: flags.namespace ?? '(all)', leaderElect: flags.leaderElect });
  try {
    await manager.start(shutdown.signal);
    await agents.stop();
    await webhook?.close();
    return 0;
  } catch (error) {
    // Losing the lease ends the process, as in controller-runtime: the pod restarts as a clean candidate.
    logger.error(error instanceof LeaderElectionLostError ? 'leader election lost: exiting' : 'operator failed', { error: (error as Error).message });
    await webhook?.close();
    return 1;
  }
}
