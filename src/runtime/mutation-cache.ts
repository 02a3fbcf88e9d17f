import type { SharedInformer } from './informer';
import { formatKey } from './object-key';
import type { KubeObject } from '../store/object-store';

/**
 * client-go's MutationCache: an informer cache overlaid with the objects this controller itself just
 * wrote. The informer shows a write only after its watch event arrives; a reconcile that runs before
 * that (another event for the same object) would compute from the stale copy and write with its stale
 * resourceVersion, to be refused with a 409 and retried. Reading through this cache it starts from
 * what it wrote instead.
 *
 * The newer copy wins by resourceVersion. Kubernetes calls resourceVersions opaque; like client-go's
 * MutationCache this relies on what both stores issue in fact — etcd revisions, increasing integers —
 * and only ever to choose between two copies of the same object. An entry is dropped as soon as the
 * informer has caught up with it, so the overlay holds only writes still in flight.
 */
export class MutationCache<T extends KubeObject> {
  private readonly written = new Map<string, T>();

  constructor(private readonly informer: SharedInformer<T>) {}

  get(namespace: string | undefined, name: string): T | undefined {
    const key = formatKey({ namespace, name });
    const cached = this.informer.get(namespace, name);
    const mine = this.written.get(key);
    if (!mine) return cached;
    if (cached && !isNewer(mine, cached)) {
      this.written.delete(key);
      return cached;
    }
    // Deleted since? The informer's word on deletion is final only once it saw a newer version; until then keep ours.
    return cached || !this.seenDeleted(mine) ? mine : undefined;
  }

  /** Record what a write returned. */
  mutated(object: T): void {
    this.written.set(formatKey({ namespace: object.metadata.namespace, name: object.metadata.name }), object);
  }

  forget(namespace: string | undefined, name: string): void {
    this.written.delete(formatKey({ namespace, name }));
  }

  /** An object the informer no longer has, while the informer is already past our write: it was deleted. */
  private seenDeleted(mine: T): boolean {
    const seen = this.informer.lastSyncResourceVersion();
    return seen !== '' && !isNewerVersion(mine.metadata.resourceVersion, seen);
  }
}

function isNewer(a: KubeObject, b: KubeObject): boolean {
  return isNewerVersion(a.metadata.resourceVersion, b.metadata.resourceVersion);
}

function isNewerVersion(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}
