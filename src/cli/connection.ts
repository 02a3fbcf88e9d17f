import type { KubeConfig } from '@kubernetes/client-node';
import type { ObjectStore } from '../store/object-store';
import { KubeStore } from '../store/kube/kube-store';
import { contextNamespace, loadKubeConfig } from './kube-config';

/** kubectl's connection flags, which every command on Berth's objects takes. */
export interface ConnectionFlags {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
}

/** Where a command reads and writes: the store, and the namespace -n or the context names. */
export interface Connection {
  store: ObjectStore;
  namespace: string;
}

/** The API server of the kubeconfig (and context) the flags name. */
export function connect(flags: ConnectionFlags): Connection & { config: KubeConfig } {
  const config = loadKubeConfig(flags.kubeconfig, flags.context);
  return { store: new KubeStore(config), namespace: flags.namespace ?? contextNamespace(config), config };
}

/** What a command prints: stdout and stderr, a line each call. */
export interface Lines {
  out(line: string): void;
  err(line: string): void;
}
