import { Gauge, type Registry } from 'prom-client';
import type { Service, ServiceStatus } from '../../api';

/** The service's domain metrics, as the PrometheusRule and dashboard in deploy/ read them. */
export interface ServiceMetrics {
  observe(service: Service, status: ServiceStatus): void;
  forget(namespace: string, name: string): void;
}

const rolloutStates = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;

export function serviceMetrics(registry: Registry): ServiceMetrics {
  const labelNames = ['namespace', 'service'] as const;
  const desired = new Gauge({ name: 'berth_service_desired_tasks', help: 'Desired tasks of a service.', labelNames, registers: [registry] });
  const running = new Gauge({ name: 'berth_service_running_tasks', help: 'Tasks of a service in RUNNING.', labelNames, registers: [registry] });
  const pending = new Gauge({ name: 'berth_service_pending_tasks', help: 'Tasks of a service in PENDING.', labelNames, registers: [registry] });
  const deployments = new Gauge({
    name: 'berth_service_deployments',
    help: 'Deployments of a service by rollout state.',
    labelNames: [...labelNames, 'rollout_state'],
    registers: [registry],
  });
  return {
    observe(service, status) {
      const labels = { namespace: service.metadata.namespace!, service: service.metadata.name };
      desired.set(labels, status.desiredCount ?? 0);
      running.set(labels, status.runningCount ?? 0);
      pending.set(labels, status.pendingCount ?? 0);
      for (const state of rolloutStates) {
        deployments.set({ ...labels, rollout_state: state }, (status.deployments ?? []).filter((d) => d.rolloutState === state).length);
      }
    },
    forget(namespace, name) {
      const labels = { namespace, service: name };
      for (const gauge of [desired, running, pending]) gauge.remove(labels);
      for (const state of rolloutStates) deployments.remove({ ...labels, rollout_state: state });
    },
  };
}
