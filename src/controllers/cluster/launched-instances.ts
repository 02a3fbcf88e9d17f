import type { ContainerInstance } from '../../api';
import type { InstanceProviders, ProviderName } from '../../ecs/instance-provider';
import { providerAttribute } from './node-group-plan';

interface Launched {
  clusterKey: string;
  name: string;
  namespace: string;
  provider: ProviderName;
}

/**
 * The managed instances this process has launched through their provider, by uid. In-process agents
 * live and die with the process, so this is deliberately process memory: after a restart nothing is
 * launched, and the first reconcile of each cluster launches its instances again.
 */
export class LaunchedInstances {
  private readonly launched = new Map<string, Launched>();

  constructor(private readonly providers: InstanceProviders) {}

  /**
   * Brings the launched set of one cluster in line with its instances in the store: terminates those
   * that are gone first (a name can come back with a new uid), then launches those not launched yet.
   */
  async sync(clusterKey: string, instances: readonly ContainerInstance[]): Promise<void> {
    const present = new Set(instances.map((instance) => instance.metadata.uid));
    for (const [uid, launched] of this.launched) {
      if (launched.clusterKey !== clusterKey || present.has(uid)) continue;
      await this.providers[launched.provider].terminate(launched.name, launched.namespace);
      this.launched.delete(uid);
    }
    for (const instance of instances) await this.launch(clusterKey, instance);
  }

  async launch(clusterKey: string, instance: ContainerInstance): Promise<void> {
    const uid = instance.metadata.uid!;
    if (this.launched.has(uid)) return;
    const provider: ProviderName = instance.spec.attributes?.[providerAttribute] === 'simulated' ? 'simulated' : 'local';
    await this.providers[provider].launch(instance);
    this.launched.set(uid, { clusterKey, name: instance.metadata.name, namespace: instance.metadata.namespace!, provider });
  }
}
