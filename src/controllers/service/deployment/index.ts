export { circuitBreakerReason, circuitBreakerThreshold, healthCheckFailureReason, isFailedLaunch } from './circuit-breaker';
export { planDaemonStep, type DaemonInstanceState, type DaemonStep } from './daemon';
export {
  decideDeployments,
  progressingCondition,
  type DaemonInstanceTasks,
  type DecideDeploymentsInput,
  type DeploymentDecision,
  type DeploymentEffect,
  type DeploymentObservation,
  type StartTasksEffect,
  type StopTasksEffect,
} from './decide-deployments';
export { deploymentIdGenerator, type DeploymentIdGenerator, type DeploymentIdSeed } from './deployment-id';
export { deploymentMachine, type DeploymentContext, type DeploymentEvent, type RecordDeploymentEvent } from './deployment-machine';
export {
  emptyTally,
  planRollingStep,
  hasRoom,
  rollingBounds,
  type RollingBounds,
  type RollingStep,
  type RollingStepInput,
  type TaskHealth,
  type TaskStops,
  type TaskTally,
} from './rolling';
