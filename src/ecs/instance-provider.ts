import type { ContainerInstance } from '../api';

/**
 * The InstanceProvider port: what starts and stops the host behind a ContainerInstance of a managed
 * node group. `local` carves an in-process agent out of the local Docker engine, `simulated` starts an
 * agent that runs no containers; cloud providers would fit the same port.
 *
 * The cluster controller launches every managed instance it finds that this process has not launched
 * yet (so in-process agents come back after an operator restart), and terminates an instance once its
 * ContainerInstance object is gone.
 */
export interface InstanceProvider {
  launch(instance: ContainerInstance): Promise<void>;
  terminate(instanceName: string, namespace: string): Promise<void>;
}

/** The `provider` of a managed node group; absent means local. */
export type ProviderName = 'local' | 'simulated';

export type InstanceProviders = Readonly<Record<ProviderName, InstanceProvider>>;

/** For a control plane without a data plane (tests, dry runs): instances are registered, nothing is started. */
export const noopInstanceProvider: InstanceProvider = {
  launch: () => Promise.resolve(),
  terminate: () => Promise.resolve(),
};

export const noopInstanceProviders: InstanceProviders = { local: noopInstanceProvider, simulated: noopInstanceProvider };
