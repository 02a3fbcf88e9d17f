import { createHash } from 'node:crypto';
import { serviceLabel, type Service, type Task } from '../../api';
import { boundedName } from '../../store/object-names';

/**
 * The tasks of a service: how they are named, labelled and counted. Names are deterministic (the
 * lowest free ordinal of the deployment), so a controller that restarts between creating a task and
 * recording it computes the same name again and gets AlreadyExists instead of a duplicate.
 */

export const deploymentLabel = 'berth.dev/deployment';

export function deploymentSlug(deploymentId: string): string {
  return createHash('sha256').update(deploymentId).digest('hex').slice(0, 6);
}

export function serviceSelector(service: Service): string {
  return `${serviceLabel}=${service.metadata.name}`;
}

export function tasksOfService(service: Service, all: Task[]): Task[] {
  return all.filter((task) => task.metadata.labels?.[serviceLabel] === service.metadata.name && task.spec.group === `service:${service.metadata.name}`);
}

/** `<service>-<deployment>-<ordinal>`, with the lowest ordinal no Task object of the deployment holds. */
export function nextTaskNames(service: Service, deploymentId: string, existing: Task[], count: number): string[] {
  const prefix = `${service.metadata.name}-${deploymentSlug(deploymentId)}-`;
  const taken = new Set(existing.map((task) => task.metadata.name));
  const names: string[] = [];
  for (let ordinal = 0; names.length < count; ordinal++) {
    if (!taken.has(prefix + ordinal)) names.push(prefix + ordinal);
  }
  return names;
}

/** DAEMON tasks are named after their instance: one per instance per deployment, by construction. */
export function daemonTaskName(service: Service, deploymentId: string, instance: string): string {
  return boundedName(`${service.metadata.name}-${deploymentSlug(deploymentId)}-${instance}`);
}

export function buildServiceTask(service: Service, deploymentId: string, taskDefinition: string, name: string, containerInstance?: string): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: {
      name,
      namespace: service.metadata.namespace!,
      labels: { [serviceLabel]: service.metadata.name, [deploymentLabel]: deploymentSlug(deploymentId) },
      ownerReferences: [
        {
          apiVersion: service.apiVersion,
          kind: service.kind,
          name: service.metadata.name,
          uid: service.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      cluster: service.spec.cluster,
      taskDefinition,
      group: `service:${service.metadata.name}`,
      startedBy: deploymentId,
      desiredStatus: 'RUNNING',
      ...(service.spec.launchType ? { launchType: service.spec.launchType } : {}),
      ...(containerInstance ? { containerInstance } : {}),
    },
  };
}

export type TaskPhase = 'starting' | 'healthy' | 'unhealthy' | 'stopping' | 'stopped';

/**
 * Where a task stands for the deployment arithmetic. The lifecycle moves a task to RUNNING only once
 * its essential containers run and pass their health checks, so RUNNING counts as healthy until a
 * check reports UNHEALTHY. A failing task is given healthCheckGracePeriodSeconds before the service
 * replaces it — from its start when it had run healthy, else from when its images were in place —,
 * which is what the grace period is for in ECS.
 */
export function taskPhase(task: Task, now: Date, gracePeriodSeconds: number): TaskPhase {
  const status = task.status;
  if (status?.lastStatus === 'STOPPED') return 'stopped';
  if (task.spec.desiredStatus === 'STOPPED' || ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING'].includes(status?.lastStatus ?? '')) return 'stopping';
  if (status?.healthStatus === 'UNHEALTHY') {
    const since = Date.parse(status.startedAt ?? status.pullStoppedAt ?? status.createdAt ?? now.toISOString());
    return now.getTime() - since < gracePeriodSeconds * 1000 ? 'starting' : 'unhealthy';
  }
  return status?.lastStatus === 'RUNNING' ? 'healthy' : 'starting';
}
