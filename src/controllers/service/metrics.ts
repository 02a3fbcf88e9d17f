import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Service, ServiceStatus } from '../../api';

/** The service's domain metrics, as the PrometheusRule and dashboard in deploy/ read them. */
export interface ServiceMetrics {
  observe(service: Service, status: ServiceStatus): void;
  forget(namespace: string, name: string): void;
}

const rolloutStates = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;

/** Rollouts last from seconds (a few tasks) to an hour (thousands of tasks, slow health checks). */
const rolloutBuckets = [5, 10, 30, 60, 120, 300, 600, 1200, 3600];

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
  const rolloutDuration = new Histogram({
    name: 'berth_service_rollout_duration_seconds',
    help: 'Seconds from a deployment created to its rollout COMPLETED or FAILED, by outcome.',
    labelNames: ['rollout_state'] as const,
    buckets: rolloutBuckets,
    registers: [registry],
  });
  /** Deployment ids this process saw IN_PROGRESS: only their end is a rollout it can time. */
  const inProgress = new Set<string>();
  return {
    observe(service, status) {
      const labels = { namespace: service.metadata.namespace!, service: service.metadata.name };
      // A deployment superseded while in progress, then pruned, never ends: forget it when it is gone.
      const prefix = `${labels.namespace}/${labels.service}/`;
      const present = new Set((status.deployments ?? []).map((deployment) => `${prefix}${deployment.id}`));
      for (const key of inProgress) if (key.startsWith(prefix) && !present.has(key)) inProgress.delete(key);
      for (const deployment of status.deployments ?? []) {
        const key = `${prefix}${deployment.id}`;
        if (deployment.rolloutState === 'IN_PROGRESS') inProgress.add(key);
        else if (inProgress.delete(key) && deployment.createdAt && deployment.updatedAt) {
          // e.g. created 12:00:00, COMPLETED 12:03:20: 200 s.
          rolloutDuration.observe({ rollout_state: deployment.rolloutState }, (Date.parse(deployment.updatedAt) - Date.parse(deployment.createdAt)) / 1000);
        }
      }
      desired.set(labels, status.desiredCount ?? 0);
      running.set(labels, status.runningCount ?? 0);
      pending.set(labels, status.pendingCount ?? 0);
      for (const state of rolloutStates) {
        deployments.set({ ...labels, rollout_state: state }, (status.deployments ?? []).filter((d) => d.rolloutState === state).length);
      }
    },
    forget(namespace, name) {
      const labels = { namespace, service: name };
      for (const key of inProgress) if (key.startsWith(`${namespace}/${name}/`)) inProgress.delete(key);
      for (const gauge of [desired, running, pending]) gauge.remove(labels);
      for (const state of rolloutStates) deployments.remove({ ...labels, rollout_state: state });
    },
  };
}
