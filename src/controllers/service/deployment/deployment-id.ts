import { createHash } from 'node:crypto';

/**
 * Deployment ids are derived, never random, so that a controller restarted between starting a
 * deployment's tasks and recording the deployment computes the same id again and finds its tasks
 * (their `startedBy`) instead of starting a second deployment of the same revision.
 *
 * The predecessor (the PRIMARY the new deployment replaces) plays the part of a counter: deploying
 * web:1, then web:2, then web:1 again gives three different ids. `rollback` tells a rollback by the
 * circuit breaker from a deployment the spec asked for, which no field of ServiceDeployment records.
 */
export interface DeploymentIdSeed {
  taskDefinition: string;
  predecessorId?: string;
  rollback: boolean;
}

export type DeploymentIdGenerator = (seed: DeploymentIdSeed) => string;

/** `ecs-svc/` and 19 digits, as ECS's deployment ids look. */
export function deploymentIdGenerator(serviceUid: string): DeploymentIdGenerator {
  return ({ taskDefinition, predecessorId, rollback }) => {
    const digest = createHash('sha256')
      .update(JSON.stringify([serviceUid, taskDefinition, predecessorId ?? null, rollback]))
      .digest('hex');
    return `ecs-svc/${BigInt(`0x${digest.slice(0, 15)}`)
      .toString()
      .padStart(19, '0')}`;
  };
}
