/**
 * The whole Berth control plane on one store, with in-process agents on simulated instances: what the
 * unit tests of every controller area start when they need the real interplay (the service controller
 * with the binder and the agents), and the manifests they feed it.
 */
import { AgentHost, type AgentHostOptions } from '../agent/agent-host';
import { inProcessInstanceProviders } from '../agent/instance-providers';
import type { SimulatedRuntimeOptions } from '../agent/runtime/simulated/simulated-runtime';
import type { InstanceProviders } from '../ecs/instance-provider';
import { addControllers } from '../controllers';
import { silentLogger } from '../runtime/logger';
import { Manager } from '../runtime/manager';
import type { KubeObject, ObjectStore } from '../store/object-store';

export interface ControlPlane {
  manager: Manager;
  host: AgentHost;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Delays of the simulated instances; short by default, so tests run fast. */
  simulated?: Omit<SimulatedRuntimeOptions, 'containerInstance'>;
  agents?: Omit<AgentHostOptions, 'manager'>;
  /** Instead of the simulated instances, e.g. to make one of them misbehave. */
  providers?: (host: AgentHost) => InstanceProviders;
}

export function startControlPlane(store: ObjectStore, options: ControlPlaneOptions = {}): ControlPlane {
  const manager = new Manager({ store, logger: silentLogger(), metricsServer: false, healthServer: false });
  const host = new AgentHost({ manager, ...options.agents });
  const providers = options.providers?.(host) ?? inProcessInstanceProviders(host, { simulated: options.simulated ?? { pullMs: 5, startMs: 5, healthyMs: 20 } });
  addControllers(manager, { instanceProviders: providers });
  const running = manager.start();
  return {
    manager,
    host,
    stop: async () => {
      await host.stop();
      await manager.stop();
      await running;
    },
  };
}

export interface ClusterShape {
  instances: number;
  cpu?: number;
  memory?: number;
  /** Default `simulated`. */
  provider?: 'simulated' | 'local';
  name?: string;
}

/** A Cluster with one managed node group of `instances` instances. */
export function clusterManifest(namespace: string, shape: ClusterShape): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: shape.name ?? 'demo', namespace },
    spec: {
      nodeGroups: [
        {
          name: 'general',
          type: 'managed',
          provider: shape.provider ?? 'simulated',
          instanceType: { cpu: shape.cpu ?? 4096, memory: shape.memory ?? 4096 },
          scaling: { minSize: 0, maxSize: shape.instances, desiredSize: shape.instances },
        },
      ],
    },
  } as KubeObject;
}

export function taskDefinitionManifest(namespace: string, name: string, containerDefinitions: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'TaskDefinition', metadata: { name, namespace }, spec: { containerDefinitions } } as KubeObject;
}

export function serviceManifest(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { cluster: 'demo', taskDefinition: name, ...spec },
  } as KubeObject;
}
