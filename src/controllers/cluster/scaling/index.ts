/** Capacity-provider managed scaling of managed node groups: the reservation metric, the scaling machine, its decisions and metrics. */
export { decideScaling, type ScalingDecision, type ScalingStatus } from './decide-scaling';
export { groupDemand, instancesByState, isScalingNodeGroup, waitingTasksByGroup, type ScalingNodeGroup } from './demand';
export { capacityProviderMetrics, type CapacityProviderMetrics } from './metrics';
