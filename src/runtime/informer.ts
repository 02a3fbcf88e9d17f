/**
 * A shared informer over the ObjectStore port: list, then watch from the list's resourceVersion,
 * keeping a cache of the objects and telling registered handlers what changed.
 *
 * It has to survive what watches really do (and what @kubernetes/client-node's informer is known to
 * get wrong):
 * - a watch the server closes normally (its timeout) → watch again from the last resourceVersion seen;
 * - 410 Gone (the version was compacted away), when starting a watch or as its close reason → list
 *   again and diff against the cache, so handlers see the adds, updates and deletes they missed;
 * - any other error → list again after an exponential backoff (capped), never give up;
 * - a watch that silently stops delivering without ever closing (a half-dead TCP connection does
 *   this) → a no-event watchdog restarts it after `stallTimeoutMs`;
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

export interface InformerOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  clock?: Clock;
  logger?: Logger;
  /** Re-deliver every cached object as an update this often; off when absent or 0. */
  resyncPeriodMs?: number;
  /** Restart a watch that delivered nothing for this long. Default 5 minutes. */
  stallTimeoutMs?: number;
  /** First delay before listing again after an error; doubles per consecutive error. Default 800 ms (client-go's). */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
}

type Delta<T> = { type: 'add'; object: T } | { type: 'update'; oldObject: T; object: T } | { type: 'delete'; object: T };

export class SharedInformer<T extends KubeObject> {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  private readonly labelSelector: string | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncPeriodMs: number;
  private readonly stallTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  private cache = new Map<string, T>();
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly syncWaiters: ((synced: boolean) => void)[] = [];
  private resourceVersion = '';
  private synced = false;
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
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger()).child({ informer: resourceKey(type), informerNamespace: options.namespace });
    this.resyncPeriodMs = options.resyncPeriodMs ?? 0;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5 * 60 * 1000;
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
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(formatKey({ namespace, name }));
  }

  list(namespace?: string): T[] {
    const objects = [...this.cache.values()];
    return namespace === undefined ? objects : objects.filter((object) => object.metadata.namespace === namespace);
  }

  /** The resourceVersion the next watch starts from. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  private async relist(): Promise<void> {
    const attempt = this.abandonAttempt();
    let result;
    try {
      result = await this.store.list<T>(this.type, this.namespace, { labelSelector: this.labelSelector });
    } catch (error) {
      if (attempt === this.attempt) this.retryAfterBackoff('list failed', error);
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

  private async startWatch(): Promise<void> {
    const attempt = this.abandonAttempt();
    this.armWatchdog(attempt);
    let watch: Watch;
    try {
      watch = await this.store.watch<T>(
        this.type,
        this.namespace,
        { resourceVersion: this.resourceVersion, labelSelector: this.labelSelector },
        {
          onEvent: (event) => this.onWatchEvent(attempt, event),
          onClose: (error) => this.onWatchClosed(attempt, error),
        },
      );
    } catch (error) {
      if (attempt === this.attempt) this.onWatchClosed(attempt, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (attempt === this.attempt) this.watch = watch;
    else watch.stop();
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
      this.cache.delete(key);
      this.dispatch([{ type: 'delete', object }]);
    } else {
      this.cache.set(key, object);
      this.dispatch([cached ? { type: 'update', oldObject: cached, object } : { type: 'add', object }]);
    }
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
    this.watchdogTimer = this.clock.setTimeout(() => {
      if (attempt !== this.attempt) return;
      this.log.warn('watch delivered nothing within the stall timeout, restarting it', {
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
    this.cache = next;
    this.dispatch(deltas);
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
