import type { Clock } from './clock';
import { SharedInformer } from './informer';
import type { Logger } from './logger';
import { formatKey } from './object-key';
import type { KubeObject, ObjectStore, ResourceType } from '../store/object-store';

interface Watched<T extends KubeObject> {
  informer: SharedInformer<T>;
  owners: Set<string>;
  changed: () => void;
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

/**
 * A cache of exactly the objects something references, as kubelet's watch-based Secret and
 * ConfigMap managers keep: one watch per referenced object (a field selector on its name), opened
 * when the first owner needs it and closed when the last lets go. Berth reads the Secrets its task
 * definitions name, never every Secret of the cluster: the operator holds no other secret in memory,
 * and a cluster with thousands of Secrets costs nothing to watch.
 *
 * A lookup is `undefined` until that object's watch has synced — unknown, which is not missing: a
 * caller waits rather than concluding that a Secret does not exist.
 */
export class ReferencedObjects<T extends KubeObject> {
  private readonly watched = new Map<string, Watched<T>>();
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly listeners = new Set<(ref: ObjectRef) => void>();
  private running = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly type: ResourceType,
    private readonly options: { clock: Clock; logger: Logger },
  ) {}

  /** The objects `owner` needs now; watches start for new ones and stop for those nobody needs any more. */
  setReferences(owner: string, refs: readonly ObjectRef[]): void {
    const next = new Set(refs.map((ref) => formatKey(ref)));
    const previous = this.byOwner.get(owner) ?? new Set<string>();
    for (const key of previous) if (!next.has(key)) this.release(owner, key);
    for (const ref of refs) {
      const key = formatKey(ref);
      if (!previous.has(key)) this.acquire(owner, key, ref);
    }
    if (next.size > 0) this.byOwner.set(owner, next);
    else this.byOwner.delete(owner);
  }

  /** `{ object }` once known (object undefined: it does not exist); undefined while its watch has not synced or nobody references it. */
  lookup(namespace: string, name: string): { object: T | undefined } | undefined {
    const entry = this.watched.get(formatKey({ namespace, name }));
    if (!entry?.informer.hasSynced()) return undefined;
    return { object: entry.informer.get(namespace, name) };
  }

  /** Called when a referenced object changes, appears, disappears, or becomes known. */
  onChange(listener: (ref: ObjectRef) => void): void {
    this.listeners.add(listener);
  }

  start(): void {
    this.running = true;
    for (const entry of this.watched.values()) this.startWatching(entry);
  }

  stop(): void {
    this.running = false;
    for (const { informer } of this.watched.values()) informer.stop();
  }

  private acquire(owner: string, key: string, ref: ObjectRef): void {
    let entry = this.watched.get(key);
    if (!entry) {
      const informer = new SharedInformer<T>(this.store, this.type, {
        namespace: ref.namespace,
        fieldSelector: `metadata.name=${ref.name}`,
        clock: this.options.clock,
        logger: this.options.logger,
      });
      const changed = () => this.listeners.forEach((listener) => listener(ref));
      informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
      entry = { informer, owners: new Set(), changed };
      this.watched.set(key, entry);
      if (this.running) this.startWatching(entry);
    }
    entry.owners.add(owner);
  }

  /** Starts the watch; its first sync is a change too (the object became known, perhaps as missing). */
  private startWatching(entry: Watched<T>): void {
    entry.informer.start();
    void entry.informer.waitForSync().then((synced) => synced && entry.changed());
  }

  private release(owner: string, key: string): void {
    const entry = this.watched.get(key);
    if (!entry) return;
    entry.owners.delete(owner);
    if (entry.owners.size > 0) return;
    entry.informer.stop();
    this.watched.delete(key);
  }
}
