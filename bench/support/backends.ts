/**
 * Where a measurement's objects live: the real kube-apiserver + etcd of the test environment, or the
 * embedded MemoryStore. A session gives the control plane and the bench's own client each a store
 * onto the same data (two API clients, or the one in-process store), and namespaces that are removed
 * when the case ends, whatever happens.
 */
import { validatorFor } from '../../src/api';
import { MemoryStore } from '../../src/store/memory/memory-store';
import type { ObjectStore } from '../../src/store/object-store';
import type { CaseContext } from './bench-case';
import { createNamespace, deleteNamespace, kubeEnvironment, namespaceName } from './environment';

export interface Session {
  /** What the control plane is given (the case wraps it to count). */
  controlPlaneStore: ObjectStore;
  /** What the bench applies and reads with; its writes are never counted as the control plane's. */
  client: ObjectStore;
  /** A fresh namespace, deleted (with everything in it) when the case ends; `release` deletes it earlier. */
  namespace(prefix: string): Promise<{ name: string; release(): Promise<void> }>;
}

export interface Backend {
  name: 'kube-apiserver' | 'memory';
  session(context: CaseContext): Promise<Session>;
}

export const kubeBackend: Backend = {
  name: 'kube-apiserver',
  session: async (context) => {
    const kube = await kubeEnvironment();
    const client = kube.newStore();
    return {
      controlPlaneStore: kube.newStore(),
      client,
      namespace: async (prefix) => {
        const name = namespaceName(prefix);
        // Declared before it exists: a process killed right after creating it still gets it removed.
        context.owns({ namespace: name, on: 'kube-apiserver' });
        await createNamespace(client, name);
        let released: Promise<void> | undefined;
        const release = () => (released ??= deleteNamespace(client, name));
        context.defer(release);
        return { name, release };
      },
    };
  },
};

export const memoryBackend: Backend = {
  name: 'memory',
  session: async () => {
    // The store lives as long as the session does: dropping it is the cleanup.
    const store = new MemoryStore({ validatorFor });
    return {
      controlPlaneStore: store,
      client: store,
      // Unique all the same: the name labels Docker containers, which outlive the store.
      namespace: async (prefix) => ({ name: namespaceName(prefix), release: async () => undefined }),
    };
  },
};
