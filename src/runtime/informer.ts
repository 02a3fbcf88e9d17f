/**
 * A shared informer over the ObjectStore port: list, then watch from the list's resourceVersion,
 * keeping a cache of the objects and telling registered handlers what changed.
 *
 * It has to survive what watches really do (and what @kubernetes/client-node's informer is known to
 * get wrong):
 * - a watch the server closes normally (its timeout) → watch again from the last resourceVersion seen;
 * - 410 Gone (the version was compacted away), when starting a watch or as its close reason → list
 *   again and diff against the cache, so handlers see the adds, updates and deletes they missed;
 * - any other error → list again after an exponential backoff (capped), never give up; once listed and
 *   watching again the backoff starts over, so each outage starts from the initial delay;
 * - a watch that silently stops delivering without ever closing (a half-dead TCP connection does
 *   this) → a watchdog restarts it when neither an event nor a bookmark came for `stallTimeoutMs`. The
 *   API server sends a bookmark about every minute to a watch that asks for them, so silence means a
 *   dead watch, not a quiet resource. The watchdog is armed only once the store has sent a bookmark:
 *   a store without bookmarks (the embedded one, whose watches cannot half-die) never false-alarms;
 * - lists are paged (`pageSize` items a request), so a relist of 10,000 objects is not one response
 *   the API server must hold in memory at once; an expired continue token starts the list over.
 *
 * Indexers keep secondary keys (tasks by service, by instance, …) up to date with the cache, so a
 * controller finds "the tasks of this service" without scanning every task.
 * - optional periodic resync re-delivers every cached object as an update, so level-triggered
 *   controllers periodically re-check the world even if an event was somehow lost.
 *
 * Cached objects are shared with every handler and reader: never mutate them, copy before writing.
 */

import { Clock, realClock, TimerHandle } from './clock';
import { Logger, silentLogger } from './logger';
import { formatKey, keyOf } from './object-key';
import { isStoreError, KubeObject, ObjectStore, resourceKey, ResourceType, Watch, WatchEvent } from '../store/object-store';

export interface EventHandler<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(oldObject: T, newObject: T): void;
  /** Receives the object's last known state. */
  onDelete?(object: T): void;
}

export interface HandlerRegistration {
  remove(): void;
}

/** Secondary keys of an object, e.g. `ns/web` for the service a task belongs to; [] for none. */
export type IndexFunction<T extends KubeObject> = (object: T) => string[];

export interface InformerOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=db-password`, to follow one object rather than a whole resource. */
  fieldSelector?: string;
  /** Items per list request. Default 500 (client-go's). */
  pageSize?: number;
  clock?: Clock;
  logger?: Logger;
  /** Re-deliver every cached object as an update this often; off when absent or 0. */
  resyncPeriodMs?: number;
  /** Restart a watch that sent neither an event nor a bookmark for this long (once bookmarks were seen). Default 150 s. */
  stallTimeoutMs?: number;
  /** First delay before listing again after an error; doubles per consecutive error. Default 800 ms (client-go's). */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
}

const namespaceIndex = 'namespace';

type Delta<T> = { type: 'add'; object: T } | { type: 'update'; oldObject: T; object: T } | { type: 'delete'; object: T };

export class SharedInformer<T extends KubeObject> {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  private readonly labelSelector: string | undefined;
  private readonly fieldSelector: string | undefined;
  private readonly pageSize: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncPeriodMs: number;
  private readonly stallTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  private cache = new Map<string, T>();
  private readonly indexers = new Map<string, { fn: IndexFunction<T>; index: Map<string, Set<string>> }>();
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly syncWaiters: ((synced: boolean) => void)[] = [];
  private resourceVersion = '';
  private synced = false;
  /** The store sends bookmarks: silence is then a sign of a dead watch. */
  private bookmarksSeen = false;
  private running = false;
  /** Bumped whenever the current list or watch is abandoned, so its late callbacks are ignored. */
  private attempt = 0;
  private watch: Watch | undefined;
  private backoffMs: number;
  private retryTimer: TimerHandle | undefined;
  private watchdogTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;

  constructor(
    private readonly store: ObjectStore,
    type: ResourceType,
    options: InformerOptions = {},
  ) {
    this.type = type;
    this.namespace = options.namespace;
    this.labelSelector = options.labelSelector;
    this.fieldSelector = options.fieldSelector;
    this.pageSize = options.pageSize ?? 500;
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger()).child({ informer: resourceKey(type), informerNamespace: options.namespace });
    this.resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 150 * 1000;
    this.addIndexer(namespaceIndex, (object) => [object.metadata.namespace ?? '']);
    this.initialBackoffMs = options.initialBackoffMs ?? 800;
    this.maxBackoffMs = options.maxBackoffMs ?? 30 * 1000;
    this.backoffMs = this.initialBackoffMs;
  }

  /** A handler added after the initial sync first receives an add for every cached object. */
  addEventHandler(handler: EventHandler<T>): HandlerRegistration {
    this.handlers.add(handler);
    if (this.synced) for (const object of this.cache.values()) this.deliver(handler, { type: 'add', object });
    return { remove: () => this.handlers.delete(handler) };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.relist();
    this.scheduleResync();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.abandonAttempt();
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    this.syncWaiters.splice(0).forEach((resolve) => resolve(false));
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true when synced, false if the informer stops or `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (!this.running || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      this.syncWaiters.push((synced) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(synced);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(formatKey({ namespace, name }));
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.cache.values()] : this.byIndex(namespaceIndex, namespace);
  }

  /**
   * Keeps an index of the cache under `name`. Registering a name again is a no-op, so every controller
   * that needs "tasks by service" can ask for it; the index is built at once from what is cached.
   */
  addIndexer(name: string, fn: IndexFunction<T>): void {
    if (this.indexers.has(name)) return;
    const indexer = { fn, index: new Map<string, Set<string>>() };
    this.indexers.set(name, indexer);
    for (const [key, object] of this.cache) this.indexObject(indexer, key, undefined, object);
  }

  /** The cached objects whose index function gave `value`. */
  /** How many cached objects an index holds under `value`, in O(1): what a check for "any?" asks, without copying them out. */
  countByIndex(name: string, value: string): number {
    return this.indexKeys(name, value)?.size ?? 0;
  }

  private indexKeys(name: string, value: string): Set<string> | undefined {
    const indexer = this.indexers.get(name);
    if (!indexer) throw new Error(`informer ${resourceKey(this.type)} has no index ${name}`);
    return indexer.index.get(value);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexKeys(name, value);
    if (!keys) return [];
    const objects: T[] = [];
    for (const key of keys) objects.push(this.cache.get(key)!);
    return objects;
  }

  /** The resourceVersion the next watch starts from. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  private async relist(): Promise<void> {
    const attempt = this.abandonAttempt();
    let result;
    try {
      result = await this.listAllPages();
    } catch (error) {
      if (attempt !== this.attempt) return;
      // The continue token expired between pages (compaction): the next attempt lists from the start.
      this.retryAfterBackoff('list failed', error);
      return;
    }
    if (attempt !== this.attempt) return;
    this.replace(result.items);
    this.resourceVersion = result.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      this.syncWaiters.splice(0).forEach((resolve) => resolve(true));
      this.log.debug('informer synced', { objects: this.cache.size, resourceVersion: this.resourceVersion });
    }
    await this.startWatch();
  }

  /** Every page of one consistent list: all pages are served from the first page's resourceVersion. */
  private async listAllPages(): Promise<{ items: T[]; resourceVersion: string }> {
    const selectors = { labelSelector: this.labelSelector, fieldSelector: this.fieldSelector };
    const items: T[] = [];
    let page = await this.store.list<T>(this.type, this.namespace, { ...selectors, limit: this.pageSize });
    items.push(...page.items);
    while (page.continue) {
      page = await this.store.list<T>(this.type, this.namespace, { ...selectors, limit: this.pageSize, continue: page.continue });
      items.push(...page.items);
    }
    return { items, resourceVersion: page.resourceVersion };
  }

  private async startWatch(): Promise<void> {
    const attempt = this.abandonAttempt();
    this.armWatchdog(attempt);
    let watch: Watch;
    try {
      watch = await this.store.watch<T>(
        this.type,
        this.namespace,
        { resourceVersion: this.resourceVersion, labelSelector: this.labelSelector, fieldSelector: this.fieldSelector },
        {
          onEvent: (event) => this.onWatchEvent(attempt, event),
          onBookmark: (resourceVersion) => this.onBookmark(attempt, resourceVersion),
          onClose: (error) => this.onWatchClosed(attempt, error),
        },
      );
    } catch (error) {
      if (attempt === this.attempt) this.onWatchClosed(attempt, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (attempt !== this.attempt) {
      watch.stop();
      return;
    }
    this.watch = watch;
    // Listed and watching again: the errors are no longer consecutive, so the next outage starts from the
    // initial backoff. Waiting for an event instead would leave a quiet resource (a TaskDefinition changes
    // rarely) with the doubled delay of the last outage, and an API server restarted twice in a row (a
    // rolling restart) would leave it blind for up to maxBackoffMs after the server is back.
    this.backoffMs = this.initialBackoffMs;
  }

  private onWatchEvent(attempt: number, event: WatchEvent<T>): void {
    if (attempt !== this.attempt) return;
    this.armWatchdog(attempt);
    this.backoffMs = this.initialBackoffMs;
    const object = event.object;
    if (object.metadata.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
    const key = formatKey(keyOf(object));
    const cached = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.uncacheObject(key, cached ?? object);
      this.dispatch([{ type: 'delete', object }]);
    } else {
      this.cacheObject(key, cached, object);
      this.dispatch([cached ? { type: 'update', oldObject: cached, object } : { type: 'add', object }]);
    }
  }

  private onBookmark(attempt: number, resourceVersion: string): void {
    if (attempt !== this.attempt) return;
    this.bookmarksSeen = true;
    this.resourceVersion = resourceVersion;
    this.armWatchdog(attempt);
  }

  private onWatchClosed(attempt: number, error: Error | undefined): void {
    if (attempt !== this.attempt) return;
    this.watch = undefined;
    if (!error) {
      this.backoffMs = this.initialBackoffMs;
      this.log.debug('watch closed, watching again', { resourceVersion: this.resourceVersion });
      void this.startWatch();
    } else if (isStoreError(error, 'Gone')) {
      this.log.info('watch expired (410 Gone), listing again', { resourceVersion: this.resourceVersion });
      void this.relist();
    } else {
      this.retryAfterBackoff('watch failed', error);
    }
  }

  private retryAfterBackoff(what: string, error: unknown): void {
    const attempt = this.abandonAttempt();
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.log.warn(`${what}, listing again after backoff`, { error: error instanceof Error ? error.message : String(error), delayMs });
    this.retryTimer = this.clock.setTimeout(() => {
      if (attempt === this.attempt) void this.relist();
    }, delayMs);
  }

  private armWatchdog(attempt: number): void {
    if (this.watchdogTimer) this.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    if (!this.bookmarksSeen) return;
    this.watchdogTimer = this.clock.setTimeout(() => {
      if (attempt !== this.attempt) return;
      this.log.warn('watch sent neither an event nor a bookmark within the stall timeout, restarting it', {
        stallTimeoutMs: this.stallTimeoutMs,
        resourceVersion: this.resourceVersion,
      });
      void this.startWatch();
    }, this.stallTimeoutMs);
  }

  /** Ends whatever list, watch or pending retry is in progress; returns the new attempt's number. */
  private abandonAttempt(): number {
    this.attempt++;
    this.watch?.stop();
    this.watch = undefined;
    if (this.retryTimer) this.clock.clearTimeout(this.retryTimer);
    if (this.watchdogTimer) this.clock.clearTimeout(this.watchdogTimer);
    this.retryTimer = this.watchdogTimer = undefined;
    return this.attempt;
  }

  /** Swaps in a fresh list, telling handlers only about what differs from the cache. */
  private replace(items: T[]): void {
    const next = new Map<string, T>();
    const deltas: Delta<T>[] = [];
    for (const object of items) {
      const key = formatKey(keyOf(object));
      next.set(key, object);
      const cached = this.cache.get(key);
      if (!cached) deltas.push({ type: 'add', object });
      else if (cached.metadata.resourceVersion !== object.metadata.resourceVersion) deltas.push({ type: 'update', oldObject: cached, object });
    }
    for (const [key, cached] of this.cache) if (!next.has(key)) deltas.push({ type: 'delete', object: cached });
    for (const delta of deltas) {
      const key = formatKey(keyOf(delta.object));
      if (delta.type === 'delete') this.uncacheObject(key, delta.object);
      else this.cacheObject(key, delta.type === 'update' ? delta.oldObject : undefined, delta.object);
    }
    this.dispatch(deltas);
  }

  private cacheObject(key: string, previous: T | undefined, object: T): void {
    this.cache.set(key, object);
    for (const indexer of this.indexers.values()) this.indexObject(indexer, key, previous, object);
  }

  private uncacheObject(key: string, previous: T): void {
    this.cache.delete(key);
    for (const indexer of this.indexers.values()) this.indexObject(indexer, key, previous, undefined);
  }

  private indexObject(indexer: { fn: IndexFunction<T>; index: Map<string, Set<string>> }, key: string, previous: T | undefined, next: T | undefined): void {
    const before = previous ? indexer.fn(previous) : [];
    const after = next ? indexer.fn(next) : [];
    for (const value of before) {
      if (after.includes(value)) continue;
      const keys = indexer.index.get(value);
      keys?.delete(key);
      if (keys?.size === 0) indexer.index.delete(value);
    }
    for (const value of after) {
      let keys = indexer.index.get(value);
      if (!keys) indexer.index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      if (this.synced) this.dispatch([...this.cache.values()].map((object) => ({ type: 'update', oldObject: object, object })));
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  private dispatch(deltas: Delta<T>[]): void {
    for (const delta of deltas) for (const handler of this.handlers) this.deliver(handler, delta);
  }

  /** A throwing handler must not break the informer or starve the other handlers. */
  private deliver(handler: EventHandler<T>, delta: Delta<T>): void {
    try {
      if (delta.type === 'add') handler.onAdd?.(delta.object);
      else if (delta.type === 'update') handler.onUpdate?.(delta.oldObject, delta.object);
      else handler.onDelete?.(delta.object);
    } catch (error) {
      this.log.error('event handler failed', { error: error instanceof Error ? error.message : String(error), event: delta.type });
    }
  }
}
