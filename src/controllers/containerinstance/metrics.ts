import { Gauge, type Registry } from 'prom-client';
import type { ContainerInstance } from '../../api';

/** What the tasks placed on each container instance reserve of it, as ECS's CPUReservation and MemoryReservation. */
export interface InstanceMetrics {
  observe(instance: ContainerInstance): void;
  forget(namespace: string, name: string): void;
}

export function instanceMetrics(registry: Registry): InstanceMetrics {
  const labelNames = ['namespace', 'cluster', 'container_instance'] as const;
  const cpu = new Gauge({
    name: 'berth_container_instance_cpu_reserved_ratio',
    help: 'CPU units the tasks on a container instance reserve, over its registered CPU (0 to 1).',
    labelNames,
    registers: [registry],
  });
  const memory = new Gauge({
    name: 'berth_container_instance_memory_reserved_ratio',
    help: 'Memory the tasks on a container instance reserve, over its registered memory (0 to 1).',
    labelNames,
    registers: [registry],
  });
  const clusterOf = new Map<string, string>();
  return {
    observe(instance) {
      const { namespace = '', name } = instance.metadata;
      const registered = instance.spec.registeredResources;
      const remaining = instance.status?.remainingResources;
      if (!registered || !remaining) return;
      const labels = { namespace, cluster: instance.spec.cluster, container_instance: name };
      clusterOf.set(`${namespace}/${name}`, instance.spec.cluster);
      // e.g. 4096 units registered, 1024 remaining: 3072 / 4096 = 0.75 reserved.
      if (registered.cpu > 0) cpu.set(labels, (registered.cpu - remaining.cpu) / registered.cpu);
      if (registered.memory > 0) memory.set(labels, (registered.memory - remaining.memory) / registered.memory);
    },
    forget(namespace, name) {
      const cluster = clusterOf.get(`${namespace}/${name}`);
      if (cluster === undefined) return;
      clusterOf.delete(`${namespace}/${name}`);
      cpu.remove({ namespace, cluster, container_instance: name });
      memory.remove({ namespace, cluster, container_instance: name });
    },
  };
}
