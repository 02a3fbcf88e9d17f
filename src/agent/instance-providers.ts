import Dockerode from 'dockerode';
import type { ContainerInstance } from '../api';
import type { InstanceProvider, InstanceProviders } from '../ecs/instance-provider';
import type { Clock } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import type { AgentHost } from './agent-host';
import { DockerRuntime } from './runtime/docker/docker-runtime';
import { SimulatedRuntime, type SimulatedRuntimeOptions } from './runtime/simulated/simulated-runtime';
import type { TaskRuntime } from './task-runtime';

/**
 * The instance providers of managed node groups: each launched instance becomes an in-process agent
 * of the AgentHost, backed by its own runtime. The runtime's scope — the label every container of the
 * instance carries, and the only containers it ever lists, watches or removes — is the instance's
 * namespace, name and uid: the uid is this Berth's own identity for the instance, so another Berth
 * (another API server, another test run) sharing the engine, even with the same names, is never seen.
 */
function inProcess(host: AgentHost, runtimeFor: (runtimeId: string) => TaskRuntime): InstanceProvider {
  return {
    launch: (instance: ContainerInstance) => host.attach(instance, runtimeFor(runtimeScopeOf(instance))),
    terminate: (name: string, namespace: string) => host.detach({ namespace, name }),
  };
}

/** The scope of an instance's runtime (see above); berth agent's self-managed instance uses the same. */
export function runtimeScopeOf(instance: ContainerInstance): string {
  return `${instance.metadata.namespace}.${instance.metadata.name}.${instance.metadata.uid}`;
}

export interface InstanceProviderOptions {
  /** The local Docker engine; created from DOCKER_HOST (or the default socket) when absent. */
  docker?: Dockerode;
  simulated?: Omit<SimulatedRuntimeOptions, 'containerInstance'>;
  clock?: Clock;
  logger?: Logger;
}

export function inProcessInstanceProviders(host: AgentHost, options: InstanceProviderOptions = {}): InstanceProviders {
  const runtimes = runtimeFactories(options);
  return { local: inProcess(host, runtimes.docker), simulated: inProcess(host, runtimes.simulated) };
}

/**
 * The two engines an in-process agent runs on, by the scope its containers are labelled with: the
 * local Docker engine (created from DOCKER_HOST, or the default socket, on first use), or the
 * simulated one. Instances of managed groups and the clusters' Fargate pools take theirs from here.
 */
export function runtimeFactories(options: InstanceProviderOptions = {}): Record<'docker' | 'simulated', (scope: string) => TaskRuntime> {
  let docker = options.docker;
  const engine = () => (docker ??= new Dockerode());
  return {
    docker: (scope) =>
      new DockerRuntime({
        docker: engine(),
        containerInstance: scope,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    simulated: (scope) => new SimulatedRuntime({ ...options.simulated, containerInstance: scope }),
  };
}
