import { Gauge, type Registry } from 'prom-client';

/** A managed instance as the capacity-provider metrics count it: warming up, ACTIVE past its warm-up, or DRAINING. */
export const instanceStates = ['WARMING', 'ACTIVE', 'DRAINING'] as const;
export type InstanceState = (typeof instanceStates)[number];

export interface CapacityProviderSample {
  capacityProvider: string;
  reservation: number;
  instances: Readonly<Record<InstanceState, number>>;
  /** The size managed scaling drives the group to, and its ceiling: at the ceiling, waiting tasks wait for good. */
  desiredSize: number;
  maxSize: number;
}

/** The capacity providers' domain metrics (managed node groups with managedScaling ENABLED), as deploy/'s dashboard reads them. */
export interface CapacityProviderMetrics {
  /** The cluster's scaling groups now; the series of groups no longer among them are removed. */
  observe(namespace: string, cluster: string, samples: readonly CapacityProviderSample[]): void;
  forget(namespace: string, cluster: string): void;
}

export function capacityProviderMetrics(registry: Registry): CapacityProviderMetrics {
  const labelNames = ['namespace', 'cluster', 'capacity_provider'] as const;
  const reservation = new Gauge({
    name: 'berth_capacity_provider_reservation',
    help: 'Capacity provider reservation of a managed node group: instances needed over instances running, in percent.',
    labelNames,
    registers: [registry],
  });
  const instances = new Gauge({
    name: 'berth_capacity_provider_instances',
    help: 'Instances of a managed node group by state (WARMING, ACTIVE, DRAINING).',
    labelNames: [...labelNames, 'state'],
    registers: [registry],
  });
  const desiredSize = new Gauge({
    name: 'berth_capacity_provider_desired_size',
    help: 'The number of instances managed scaling drives a managed node group to.',
    labelNames,
    registers: [registry],
  });
  const maxSize = new Gauge({
    name: 'berth_capacity_provider_max_size',
    help: 'The maxSize of a managed node group: managed scaling never goes above it.',
    labelNames,
    registers: [registry],
  });
  /** namespace/cluster → the capacity providers it has series for. */
  const known = new Map<string, Set<string>>();
  const remove = (namespace: string, cluster: string, capacityProvider: string) => {
    const labels = { namespace, cluster, capacity_provider: capacityProvider };
    reservation.remove(labels);
    desiredSize.remove(labels);
    maxSize.remove(labels);
    for (const state of instanceStates) instances.remove({ ...labels, state });
  };
  return {
    observe(namespace, cluster, samples) {
      const key = `${namespace}/${cluster}`;
      const now = new Set(samples.map((sample) => sample.capacityProvider));
      for (const gone of known.get(key) ?? []) if (!now.has(gone)) remove(namespace, cluster, gone);
      known.set(key, now);
      for (const sample of samples) {
        const labels = { namespace, cluster, capacity_provider: sample.capacityProvider };
        reservation.set(labels, sample.reservation);
        desiredSize.set(labels, sample.desiredSize);
        maxSize.set(labels, sample.maxSize);
        for (const state of instanceStates) instances.set({ ...labels, state }, sample.instances[state]);
      }
    },
    forget(namespace, cluster) {
      const key = `${namespace}/${cluster}`;
      for (const capacityProvider of known.get(key) ?? []) remove(namespace, cluster, capacityProvider);
      known.delete(key);
    },
  };
}
