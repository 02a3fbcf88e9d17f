import type { ScaleTargetRef, ScaleTargets } from '../scale-targets';

/** Scale targets in memory: replicas per target, and the Nodes whose Machines were marked for deletion. */
export class FakeScaleTargets implements ScaleTargets {
  readonly replicasOf = new Map<string, number>();
  readonly marked = new Set<string>();
  /** Nodes that name no Machine (markMachineForDeletion answers false for them). */
  readonly withoutMachine = new Set<string>();

  replicas(target: ScaleTargetRef): Promise<number> {
    const replicas = this.replicasOf.get(scaleTargetKey(target));
    return replicas === undefined ? Promise.reject(new Error(`${target.kind} ${target.name} not found`)) : Promise.resolve(replicas);
  }

  setReplicas(target: ScaleTargetRef, replicas: number): Promise<void> {
    this.replicasOf.set(scaleTargetKey(target), replicas);
    return Promise.resolve();
  }

  markMachineForDeletion(nodeName: string): Promise<boolean> {
    if (this.withoutMachine.has(nodeName)) return Promise.resolve(false);
    this.marked.add(nodeName);
    return Promise.resolve(true);
  }
}

export function scaleTargetKey(target: Omit<ScaleTargetRef, 'namespace'> & { namespace?: string }): string {
  return `${target.namespace ?? ''}/${target.kind}/${target.name}`;
}
