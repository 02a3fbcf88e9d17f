import { KubeObject, ObjectStore, ResourceType, StoreError } from '../store/object-store';
import type { Manifest } from './manifests';

export type ResolveType = (apiVersion: string, kind: string) => ResourceType | undefined;

export type ApplyOutcome =
  | { source: string; key: string; result: 'created' | 'configured' | 'unchanged' | 'pruned' }
  | { source: string; key: string; result: 'refused'; causes: string[] };

/** Marks what `berth local` applied, so a manifest removed from the directory is pruned like `kubectl apply --prune`. */
export const appliedByLabel = 'berth.dev/applied-by';
const appliedByValue = 'berth-local';

/**
 * Applies manifests the way `kubectl apply` would for Berth's purposes: create what is missing,
 * replace the user-owned parts (spec, labels, annotations) of what exists, leave status alone,
 * and prune objects this loader created whose manifest is gone. A refused manifest is reported
 * and skipped; nothing already stored is disturbed by it.
 */
export async function applyManifests(store: ObjectStore, manifests: Manifest[], resolve: ResolveType, defaultNamespace = 'default'): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  const wanted = new Set<string>();
  const types = new Map<string, ResourceType>();
  for (const { object, source } of manifests) {
    const type = resolve(object.apiVersion, object.kind);
    const namespace = object.metadata.namespace ?? defaultNamespace;
    const key = `${object.kind}/${namespace}/${object.metadata.name}`;
    if (!type) {
      outcomes.push({ source, key, result: 'refused', causes: [`kind ${object.kind} of ${object.apiVersion} is not served by berth local`] });
      continue;
    }
    types.set(object.kind, type);
    wanted.add(key);
    try {
      outcomes.push({ source, key, result: await applyOne(store, type, withOwnership(object, namespace)) });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      outcomes.push({ source, key, result: 'refused', causes: error.causes.length > 0 ? error.causes : [error.message] });
    }
  }
  for (const type of types.values()) {
    const { items } = await store.list(type, undefined, { labelSelector: `${appliedByLabel}=${appliedByValue}` });
    for (const item of items) {
      const key = `${item.kind}/${item.metadata.namespace}/${item.metadata.name}`;
      if (wanted.has(key)) continue;
      await store.delete(type, item.metadata.namespace, item.metadata.name).catch(() => undefined);
      outcomes.push({ source: '-', key, result: 'pruned' });
    }
  }
  return outcomes;
}

function withOwnership(object: KubeObject, namespace: string): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.namespace = namespace;
  copy.metadata.labels = { ...copy.metadata.labels, [appliedByLabel]: appliedByValue };
  return copy;
}

async function applyOne(store: ObjectStore, type: ResourceType, object: KubeObject): Promise<'created' | 'configured' | 'unchanged'> {
  const current = await store.get(type, object.metadata.namespace, object.metadata.name);
  if (!current) {
    await store.create(type, object);
    return 'created';
  }
  const next: KubeObject = {
    ...current,
    ...object,
    metadata: { ...current.metadata, labels: object.metadata.labels, annotations: object.metadata.annotations ?? current.metadata.annotations },
  };
  const stored = await store.update(type, next);
  return stored.metadata.resourceVersion === current.metadata.resourceVersion ? 'unchanged' : 'configured';
}
