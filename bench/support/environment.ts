/**
 * The real kube-apiserver + etcd (and dockerd) of the test environment, found exactly as the
 * integration tests find it: $BERTH_RUN_DIR, else the standard run dir that test/env/up.sh uses. The
 * environment check, the CRD install and the coordinates in process.env are jest's global setup,
 * reused as it is, so `npm run bench` works on a machine where `bash test/env/up.sh` has run.
 */
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { berthResourceTypes } from '../../src/api';
import { eventually } from '../../src/runtime/eventually';
import { KubeStore } from '../../src/store/kube/kube-store';
import { controllerRevisions, namespaces } from '../../src/store/builtin-types';
import { isStoreError, type KubeObject, type ObjectStore } from '../../src/store/object-store';
import { dockerSocketPath, testEnv, type TestEnv } from '../../test/env/env';
import checkEnvironmentAndInstallCrds from '../../test/env/jest-global-setup';

export interface KubeEnvironment {
  env: TestEnv;
  /** A fresh client of the admin kubeconfig; each control plane and each bench client gets its own. */
  newStore(): KubeStore;
  docker(): Dockerode;
}

let ready: Promise<KubeEnvironment> | undefined;

/** Checks the environment once per run (and installs the CRDs); fails with what to do when it is not up. */
export function kubeEnvironment(): Promise<KubeEnvironment> {
  ready ??= checkEnvironmentAndInstallCrds().then(() => {
    const env = testEnv();
    const config = new KubeConfig();
    config.loadFromFile(env.kubeconfig);
    return {
      env,
      newStore: () => new KubeStore(config, { fieldManager: 'berth-bench' }),
      docker: () => new Dockerode({ socketPath: dockerSocketPath(env) }),
    };
  });
  return ready;
}

/** `bench-<prefix>-<random>`: unique per run, and recognisably the bench's. */
export function namespaceName(prefix: string): string {
  return `bench-${prefix}-${randomUUID().slice(0, 6)}`;
}

export async function createNamespace(store: ObjectStore, name: string): Promise<void> {
  await store.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/**
 * Removes a namespace and everything in it, and waits until it is gone so the next measurement does
 * not share the API server with the namespace controller's deletions. Call it once no controller runs
 * there any more: Berth's finalizers are dropped first (its own kinds', and the one task definition
 * revisions carry), as nobody is left to release them.
 */
export async function deleteNamespace(store: ObjectStore, namespace: string, timeoutMs = 600_000): Promise<void> {
  for (const type of [...berthResourceTypes, controllerRevisions]) {
    let page: { items: KubeObject[]; continue?: string } = { items: [] };
    do {
      page = await store.list(type, namespace, { limit: 500, ...(page.continue ? { continue: page.continue } : {}) });
      for (const object of page.items.filter((o) => (o.metadata.finalizers ?? []).length > 0)) {
        await store.patch(type, namespace, object.metadata.name, { metadata: { finalizers: null } }).catch(ignoreNotFound);
      }
    } while (page.continue);
  }
  await store.delete(namespaces, undefined, namespace).catch(ignoreNotFound);
  await eventually(async () => (await store.get(namespaces, undefined, namespace)) === undefined, `namespace ${namespace} to be deleted`, {
    timeoutMs,
    intervalMs: 500,
  });
}

function ignoreNotFound(error: unknown): void {
  if (!isStoreError(error, 'NotFound')) throw error;
}
