import { hostname } from 'node:os';
import Dockerode from 'dockerode';
import { AgentHost } from '../agent/agent-host';
import { runtimeScopeOf } from '../agent/instance-providers';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime';
import { registerInstance } from '../agent/self-managed/register';
import { checkInstanceName, instanceNameFromHost, registrationSpec, type EngineInfo, type RegistrationFlags } from '../agent/self-managed/registration';
import { createLogger, type LogLevel } from '../runtime/logger';
import { Manager } from '../runtime/manager';
import { KubeStore } from '../store/kube/kube-store';
import { contextNamespace, loadKubeConfig } from './kube-config';

export interface AgentFlags extends Omit<RegistrationFlags, 'cluster' | 'nodeGroup'> {
  cluster: string;
  nodeGroup: string;
  namespace?: string;
  kubeconfig?: string;
  name?: string;
  /** How often the heartbeat Lease is renewed, and how long a renewal holds (instance-lease.ts's defaults when absent). */
  leaseRenewIntervalMs?: number;
  leaseDurationSeconds?: number;
  /** How often tasks of auto-scaled services report what they use; 1 minute when absent. */
  metricsPeriodMs?: number;
  logLevel: LogLevel;
}

/**
 * `berth agent`: the agent of one self-managed host (the ECS agent of an EC2 instance you run
 * yourself). Registers the host's ContainerInstance from its Docker engine, then, with the same
 * in-process agent code as managed instances, renews its heartbeat Lease, runs the tasks bound to it
 * and reports their state. Its caches hold what one host needs: its own instance (a field selector),
 * and the tasks and revisions of its namespace.
 *
 * SIGTERM or SIGINT stops renewing and exits, leaving the containers running, as the ECS agent does:
 * an agent restarted within the disconnected-instance grace re-adopts them.
 */
export async function runAgent(flags: AgentFlags): Promise<number> {
  const logger = createLogger({ level: flags.logLevel });
  const config = loadKubeConfig(flags.kubeconfig);
  const namespace = flags.namespace ?? contextNamespace(config);
  const store = new KubeStore(config);
  const docker = new Dockerode();
  const name = flags.name !== undefined ? checkInstanceName(flags.name) : instanceNameFromHost(hostname());

  const spec = registrationSpec((await docker.info()) as EngineInfo, flags);
  const instance = await registerInstance(store, { namespace, name }, spec);
  logger.info('registered container instance', { namespace, name, cluster: spec.cluster, nodeGroup: spec.nodeGroup, resources: spec.registeredResources });

  const manager = new Manager({ store, logger, metricsServer: false, healthServer: false, eventComponent: 'berth-agent' });
  const agents = new AgentHost({
    manager,
    namespace,
    instanceName: name,
    ...(flags.leaseRenewIntervalMs !== undefined ? { leaseRenewIntervalMs: flags.leaseRenewIntervalMs } : {}),
    ...(flags.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: flags.leaseDurationSeconds } : {}),
    ...(flags.metricsPeriodMs !== undefined ? { metricsPeriodMs: flags.metricsPeriodMs } : {}),
  });
  const shutdown = new AbortController();
  // Heartbeats stop first, then the caches: the instance then shows disconnected within one Lease duration.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void agents.stop().finally(() => shutdown.abort()));
  manager.onControllersStart(
    () =>
      void agents.attach(instance, new DockerRuntime({ docker, containerInstance: runtimeScopeOf(instance), logger: logger.child({ component: 'runtime' }) })),
  );
  await manager.start(shutdown.signal);
  logger.info('agent stopped: containers left running', { namespace, name });
  return 0;
}
