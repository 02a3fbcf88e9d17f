/**
 * Waiting on the control plane's own informers, without polling and without rescanning the cache on
 * every event: a PredicateCount keeps, per object, whether it satisfies a predicate and how many do,
 * updated by each event in O(1). A case waits for counts to reach their targets; the wait ends on the
 * event that completes them, so the time it reports is the time the informer saw it.
 */
import { formatKey, keyOf } from '../../src/runtime/object-key';
import type { SharedInformer } from '../../src/runtime/informer';
import type { KubeObject } from '../../src/store/object-store';

export class PredicateCount<T extends KubeObject> {
  private readonly satisfied = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly registration: { remove(): void };

  constructor(informer: SharedInformer<T>, predicate: (object: T) => boolean) {
    const observe = (object: T) => {
      const key = formatKey(keyOf(object));
      const had = this.satisfied.has(key);
      const has = predicate(object);
      if (has === had) return;
      if (has) this.satisfied.add(key);
      else this.satisfied.delete(key);
      this.listeners.forEach((listener) => listener());
    };
    this.registration = informer.addEventHandler({
      onAdd: observe,
      onUpdate: (_old, object) => observe(object),
      onDelete: (object) => {
        if (this.satisfied.delete(formatKey(keyOf(object)))) this.listeners.forEach((listener) => listener());
      },
    });
  }

  get count(): number {
    return this.satisfied.size;
  }

  /** Resolves once `done(count)` holds (checked now and after every change); rejects when `signal` aborts. */
  until(done: (count: number) => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        this.listeners.delete(check);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (done(this.count)) finish();
      };
      const onAbort = () => finish(signal.reason as Error);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves once exactly `target` objects satisfy the predicate. */
  reaches(target: number, signal: AbortSignal): Promise<void> {
    return this.until((count) => count === target, signal);
  }

  stop(): void {
    this.registration.remove();
    this.listeners.clear();
  }
}
