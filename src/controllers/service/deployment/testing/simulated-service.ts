import type { ServiceDeployment, ServiceSpec } from '../../../../api';
import { decideDeployments, type DeploymentDecision, type DeploymentEffect, type DeploymentObservation } from '../decide-deployments';
import { deploymentIdGenerator } from '../deployment-id';
import { emptyTally, type TaskHealth } from '../rolling';

/**
 * A Service's tasks as plain counts, for replaying decisions: applies the effect plan the way the
 * service controller and the agents would, and lets a test move tasks along between reconciles.
 */

export type SimulatedHealth = TaskHealth | 'stopped';

export interface SimulatedTask {
  deploymentId: string;
  taskDefinition: string;
  health: SimulatedHealth;
  /** Stopped before it ever became healthy, for a reason of its own. */
  failedLaunch: boolean;
  /** Its failed launch is in status: the service controller records which tasks it counted. */
  counted?: boolean;
  /** On a container instance that is draining. */
  draining?: boolean;
}

export function serviceSpec(
  overrides: Partial<ServiceSpec> & { minimumHealthyPercent?: number; maximumPercent?: number; circuitBreaker?: { enable: boolean; rollback: boolean } } = {},
): ServiceSpec {
  const { minimumHealthyPercent, maximumPercent, circuitBreaker, ...spec } = overrides;
  return {
    cluster: 'default',
    taskDefinition: 'web',
    desiredCount: 4,
    schedulingStrategy: 'REPLICA',
    ...spec,
    deploymentConfiguration: {
      ...(minimumHealthyPercent !== undefined ? { minimumHealthyPercent } : {}),
      ...(maximumPercent !== undefined ? { maximumPercent } : {}),
      deploymentCircuitBreaker: circuitBreaker ?? { enable: false, rollback: false },
    },
  };
}

export class SimulatedService {
  tasks: SimulatedTask[] = [];
  deployments: ServiceDeployment[] | undefined;
  readonly deploymentId = deploymentIdGenerator('0b6f3c1e-uid-of-web');
  private clock = Date.parse('2024-05-01T10:00:00Z');

  constructor(public spec: ServiceSpec) {}

  /** One reconcile: decide, store the status, carry out the effects. */
  reconcile(taskDefinition: string): DeploymentDecision {
    const decision = decideDeployments(this.input(taskDefinition));
    this.deployments = decision.deployments;
    for (const task of this.tasks) if (task.health === 'stopped' && task.failedLaunch) task.counted = true;
    for (const effect of decision.effects) this.apply(effect);
    this.clock += 1000;
    return decision;
  }

  input(taskDefinition: string) {
    return {
      serviceName: 'web',
      spec: this.spec,
      taskDefinition,
      deployments: this.deployments,
      observed: this.observed(),
      deploymentId: this.deploymentId,
      now: new Date(this.clock),
    };
  }

  observed(): DeploymentObservation[] {
    const byId = new Map<string, DeploymentObservation>();
    for (const task of this.tasks) {
      const entry = byId.get(task.deploymentId) ?? {
        deploymentId: task.deploymentId,
        taskDefinition: task.taskDefinition,
        tasks: { ...emptyTally },
        draining: { ...emptyTally },
        newFailedLaunches: 0,
      };
      if (task.health === 'stopped') entry.newFailedLaunches += task.failedLaunch && !task.counted ? 1 : 0;
      else {
        entry.tasks[task.health]++;
        if (task.draining) entry.draining[task.health]++;
      }
      byId.set(task.deploymentId, entry);
    }
    return [...byId.values()];
  }

  /** Every task that is not STOPPED, and the healthy ones, optionally of one revision. */
  count(health?: SimulatedHealth, taskDefinition?: string): number {
    return this.tasks.filter((t) => (health ? t.health === health : t.health !== 'stopped') && (!taskDefinition || t.taskDefinition === taskDefinition)).length;
  }

  /** Moves every task as far as it goes: starting → healthy, stopping → STOPPED. */
  settle(): void {
    for (const task of this.tasks) {
      if (task.health === 'starting') task.health = 'healthy';
      if (task.health === 'stopping') task.health = 'stopped';
    }
  }

  primary(): ServiceDeployment {
    return this.deployments!.find((d) => d.status === 'PRIMARY')!;
  }

  private apply(effect: DeploymentEffect): void {
    if (effect.type === 'startTasks') {
      for (let i = 0; i < effect.count; i++)
        this.tasks.push({ deploymentId: effect.deploymentId, taskDefinition: effect.taskDefinition, health: 'starting', failedLaunch: false });
    }
    if (effect.type === 'stopTasks') {
      if (!('count' in effect.select)) throw new Error('REPLICA services stop tasks by count');
      const { health, count, draining } = effect.select;
      const candidates = this.tasks.filter(
        (t) => (effect.deploymentId === undefined || t.deploymentId === effect.deploymentId) && t.health === health && Boolean(t.draining) === draining,
      );
      if (candidates.length < count)
        throw new Error(`asked to stop ${count} ${health} tasks of ${effect.deploymentId ?? 'draining instances'}, found ${candidates.length}`);
      for (const task of candidates.slice(0, count)) {
        task.health = 'stopping';
        task.failedLaunch = health === 'unhealthy';
      }
    }
  }
}
