import type { KubeObject } from '../../store/object-store';

/** A copy of `object` holding `finalizer` too (for an update). */
export function withFinalizer<T extends KubeObject>(object: T, finalizer: string): T {
  return { ...object, metadata: { ...object.metadata, finalizers: [...(object.metadata.finalizers ?? []), finalizer] } };
}

/** A copy of `object` without `finalizer` (for an update that lets it go). */
export function withoutFinalizer<T extends KubeObject>(object: T, finalizer: string): T {
  return { ...object, metadata: { ...object.metadata, finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer) } };
}
