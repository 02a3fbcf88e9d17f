/**
 * The ScaleTargets port: what adds and removes the Nodes of a managed group of Nodes. Any object with a
 * /scale subresource (a Cluster API MachineDeployment or MachinePool) is a target; on scale-in the Node
 * to remove is named to the infrastructure first, through its Cluster API Machine, so lowering replicas
 * removes that Node and no other.
 */
export interface ScaleTargetRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

export interface ScaleTargets {
  /** The target's spec.replicas, read through its /scale subresource; StoreError NotFound when the target is missing. */
  replicas(target: ScaleTargetRef): Promise<number>;
  /** Sets spec.replicas through /scale. */
  setReplicas(target: ScaleTargetRef, replicas: number): Promise<void>;
  /**
   * Marks the Machine behind the Node for deletion (the cluster.x-k8s.io/delete-machine annotation, which a
   * MachineSet deletes first when its replicas drop). False when the Node names no Machine, so that no
   * lowering of replicas could be aimed at it.
   */
  markMachineForDeletion(nodeName: string): Promise<boolean>;
}

/** Without a cluster to scale (the embedded store of berth local): every target is missing. */
export const noScaleTargets: ScaleTargets = {
  replicas: (target) => Promise.reject(new Error(`no scale targets outside Kubernetes: ${target.kind} ${target.name} cannot be scaled`)),
  setReplicas: (target) => Promise.reject(new Error(`no scale targets outside Kubernetes: ${target.kind} ${target.name} cannot be scaled`)),
  markMachineForDeletion: () => Promise.resolve(false),
};
