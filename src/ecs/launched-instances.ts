import type { ContainerInstance } from '../api';
import type { InstanceProvider } from './instance-provider';

interface Launched {
  clusterKey: string;
  name: string;
  namespace: string;
  provider: InstanceProvider;
}

/**
 * The instances this process has launched through their provider (a managed group's, a mirrored Node's),
 * by uid. In-process agents live and die with the process, so this is deliberately process memory: after a
 * restart nothing is launched, and the first reconcile of each cluster launches its instances again.
 */
export class LaunchedInstances {
  private readonly launched = new Map<string, Launched>();

  constructor(private readonly providerOf: (instance: ContainerInstance) => InstanceProvider) {}

  /**
   * Brings the launched set of one cluster in line with its instances in the store: terminates those
   * that are gone first (a name can come back with a new uid), then launches those not launched yet.
   */
  async sync(clusterKey: string, instances: readonly ContainerInstance[]): Promise<void> {
    const present = new Set(instances.map((instance) => instance.metadata.uid));
    for (const [uid, launched] of this.launched) {
      if (launched.clusterKey !== clusterKey || present.has(uid)) continue;
      await launched.provider.terminate(launched.name, launched.namespace);
      this.launched.delete(uid);
    }
    for (const instance of instances) await this.launch(clusterKey, instance);
  }

  async launch(clusterKey: string, instance: ContainerInstance): Promise<void> {
    const uid = instance.metadata.uid!;
    if (this.launched.has(uid)) return;
    const provider = this.providerOf(instance);
    await provider.launch(instance);
    this.launched.set(uid, { clusterKey, name: instance.metadata.name, namespace: instance.metadata.namespace!, provider });
  }
}
