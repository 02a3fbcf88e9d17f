/** The TaskRuntime adapters: a real Docker engine, and a simulation for scale tests and benchmarks. */
export { DockerRuntime, type DockerRuntimeOptions } from './docker/docker-runtime';
export { ecsCpuShares, type CpuUnitsToShares } from './docker/container-spec';
export { SimulatedRuntime, type SimulatedRuntimeOptions } from './simulated/simulated-runtime';
