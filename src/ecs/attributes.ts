/**
 * The built-in attributes of a container instance that placement constraints and spread strategies name
 * (`attribute:ecs.availability-zone`), whichever data plane registers the instance: a managed group's
 * launched instances, berth agent's self-managed hosts, and Nodes mirrored as instances.
 */
export const availabilityZoneAttribute = 'ecs.availability-zone';
export const instanceTypeAttribute = 'ecs.instance-type';
export const osTypeAttribute = 'ecs.os-type';
export const cpuArchitectureAttribute = 'ecs.cpu-architecture';

/** On a Node's instance whose group allows host paths (nodes.allowHostPaths): `allowed`. Set by Berth, read by placement. */
export const hostPathsAttribute = 'berth.dev/host-paths';
