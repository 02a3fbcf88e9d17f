/**
 * A level-triggered controller in controller-runtime's shape: informer events only enqueue keys,
 * workers take keys off a rate-limited de-duplicating queue and call the reconcile function, which
 * reads the current state of the world and converges it. The queue guarantees one reconcile per key
 * at a time; failures come back with exponential backoff.
 */

import { randomUUID } from 'node:crypto';
import { Clock, delay, realClock } from './clock';
import { HandlerRegistration, SharedInformer } from './informer';
import { Logger, silentLogger } from './logger';
import { createRegistry, reconcileOutcomes, type ReconcileOutcome, RuntimeMetrics } from './metrics';
import { formatKey, keyOf, ObjectKey, parseKey } from './object-key';
import { RateLimiter } from './rate-limiter';
import { WorkQueue } from './workqueue';
import { isStoreError, KubeObject } from '../store/object-store';

export interface ReconcileResult {
  /** Reconcile this key again after the rate limiter's delay, without counting it as an error. */
  requeue?: boolean;
  /** Reconcile this key again after this long (e.g. to re-check a deadline). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Carries controller, namespace, name and reconcileID: log through it so every line is attributable. */
  log: Logger;
  reconcileID: string;
  /** Aborted when the controller must stop at once (lost leadership, or the shutdown drain timed out). */
  signal: AbortSignal;
}

export type Reconciler = (key: ObjectKey, context: ReconcileContext) => Promise<ReconcileResult | void>;

/** Maps an object to the keys to reconcile, e.g. a Task to its owning Service. */
export type MapFunction<T extends KubeObject> = (object: T) => ObjectKey | ObjectKey[] | undefined;

/**
 * controller-runtime's predicates: which updates are worth a reconcile. A container instance's
 * heartbeat fields change often and no service cares; its DRAINING does.
 */
export interface WatchPredicates<T extends KubeObject> {
  update?(oldObject: T, newObject: T): boolean;
  /**
   * Enqueue this source's keys only after this long, so a burst of its events becomes one reconcile
   * (the queue keeps the earliest pending time per key): Karpenter's batching window.
   *   e.g. 1,000 tasks of one service change state within 2 s, delay 100 ms: about 20 reconciles, not 1,000.
   */
  delayMs?: number;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (of different keys). Default 1. */
  workers?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  rateLimiter?: RateLimiter<string>;
}

interface Source {
  register(enqueue: (keys: ObjectKey[]) => void): HandlerRegistration;
  waitForSync(signal: AbortSignal): Promise<boolean>;
}

export class Controller {
  readonly name: string;
  private readonly reconciler: Reconciler;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: RuntimeMetrics;
  private readonly queue: WorkQueue<string>;
  private readonly sources: Source[] = [];
  private readonly registrations: HandlerRegistration[] = [];
  private readonly halt = new AbortController();
  private started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconcile;
    this.workers = options.workers ?? 1;
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger()).child({ controller: options.name });
    this.metrics = options.metrics ?? new RuntimeMetrics(createRegistry({ processMetrics: false }));
    this.queue = new WorkQueue<string>({ name: options.name, clock: this.clock, rateLimiter: options.rateLimiter, metrics: this.metrics });
  }

  /** Reconcile on the informer's events: the object's own key, or the keys `map` returns. Call before start. */
  watch<T extends KubeObject>(informer: SharedInformer<T>, map: MapFunction<T> = keyOf, predicates: WatchPredicates<T> = {}): this {
    const keysOf = (object: T): ObjectKey[] => {
      const keys = map(object);
      return keys === undefined ? [] : Array.isArray(keys) ? keys : [keys];
    };
    const delayMs = predicates.delayMs ?? 0;
    this.sources.push({
      register: (enqueueNow) => {
        const enqueue = delayMs > 0 ? (keys: ObjectKey[]) => keys.forEach((key) => this.queue.addAfter(formatKey(key), delayMs)) : enqueueNow;
        return informer.addEventHandler({
          onAdd: (object) => enqueue(keysOf(object)),
          // The old object's keys too: a Task that changed owner must wake its previous owner as well.
          onUpdate: (oldObject, newObject) => {
            if (predicates.update && !predicates.update(oldObject, newObject)) return;
            enqueue([...keysOf(oldObject), ...keysOf(newObject)]);
          },
          onDelete: (object) => enqueue(keysOf(object)),
        });
      },
      waitForSync: (signal) => informer.waitForSync(signal),
    });
    return this;
  }

  /** Queue a key directly, e.g. from a timer or an external event. */
  enqueue(key: ObjectKey): void {
    this.queue.add(formatKey(key));
  }

  /** Starts watching and reconciling; resolves once the workers have exited after stop(). */
  async start(): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} was started more than once`);
    this.started = true;
    for (const source of this.sources) this.registrations.push(source.register((keys) => keys.forEach((key) => this.enqueue(key))));
    const synced = await Promise.all(this.sources.map((source) => source.waitForSync(this.halt.signal)));
    if (!synced.every(Boolean)) return;
    this.log.info('starting workers', { workers: this.workers });
    this.metrics.maxConcurrentReconciles.set({ controller: this.name }, this.workers);
    this.metrics.activeWorkers.set({ controller: this.name }, 0);
    // At zero from the start, as controller-runtime does: a rate over them answers 0, not nothing, until something happens.
    this.metrics.reconcileErrors.inc({ controller: this.name }, 0);
    for (const result of reconcileOutcomes) this.metrics.reconcileTotal.inc({ controller: this.name, result }, 0);
    await Promise.all(Array.from({ length: this.workers }, () => this.runWorker()));
    this.log.info('all workers finished');
  }

  /**
   * Stops taking new work and waits up to `drainTimeoutMs` for reconciles in flight; then aborts their
   * signal. Resolves true when they all finished in time.
   */
  async stop(drainTimeoutMs: number): Promise<boolean> {
    this.registrations.splice(0).forEach((registration) => registration.remove());
    const drained = this.queue.shutDownWithDrain().then(() => true);
    const timedOut = delay(this.clock, drainTimeoutMs, this.halt.signal).then(() => false);
    const finished = await Promise.race([drained, timedOut]);
    if (!finished) this.log.warn('reconciles still running after the drain timeout, aborting them', { drainTimeoutMs });
    this.halt.abort();
    return finished;
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const item = await this.queue.get();
      if (item === undefined) return;
      try {
        await this.reconcileItem(item);
      } finally {
        this.queue.done(item);
      }
    }
  }

  private async reconcileItem(item: string): Promise<void> {
    const key = parseKey(item);
    const reconcileID = randomUUID();
    const log = this.log.child({ namespace: key.namespace, name: key.name, reconcileID });
    const labels = { controller: this.name };
    const started = this.clock.now();
    this.metrics.activeWorkers.inc(labels);
    let result: ReconcileResult | void;
    try {
      result = await this.reconciler(key, { log, reconcileID, signal: this.halt.signal });
    } catch (error) {
      this.queue.addRateLimited(item);
      this.count('error');
      this.metrics.reconcileErrors.inc(labels);
      const message = error instanceof Error ? error.message : String(error);
      // A conflict only means our cached read was stale; the retry reads the newer version.
      if (isStoreError(error, 'Conflict')) log.debug('conflict, retrying', { error: message });
      else log.error('reconciler error', { error: message, stack: error instanceof Error ? error.stack : undefined });
      return;
    } finally {
      this.metrics.activeWorkers.dec(labels);
      this.metrics.reconcileTime.observe(labels, (this.clock.now() - started) / 1000);
    }
    if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(item);
      this.queue.addAfter(item, result.requeueAfterMs);
      this.count('requeue_after');
    } else if (result?.requeue) {
      this.queue.addRateLimited(item);
      this.count('requeue');
    } else {
      this.queue.forget(item);
      this.count('success');
    }
  }

  private count(result: ReconcileOutcome): void {
    this.metrics.reconcileTotal.inc({ controller: this.name, result });
  }
}
