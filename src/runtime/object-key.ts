/** Object keys: what informer caches are indexed by and what controllers queue (`namespace/name`, or `name` when cluster-scoped). */

import type { KubeObject } from '../store/object-store';

export interface ObjectKey {
  namespace?: string;
  name: string;
}

export function keyOf(object: KubeObject): ObjectKey {
  const { namespace, name } = object.metadata;
  return namespace ? { namespace, name } : { name };
}

export function formatKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

/** Inverse of formatKey: names and namespaces never contain '/'. */
export function parseKey(text: string): ObjectKey {
  const slash = text.indexOf('/');
  return slash < 0 ? { name: text } : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}
