/**
 * A rate-limited, de-duplicating work queue with client-go's semantics:
 *
 * - an item added while it waits in the queue is queued once (`dirty`);
 * - an item added while a worker processes it is not handed to a second worker: it is queued again
 *   when the first worker calls `done` (`processing`), so one key is never reconciled concurrently;
 * - `addAfter` keeps only the earliest pending time per item;
 * - `addRateLimited` delays by the rate limiter, `forget` resets the item's failure history.
 *
 * Items are compared with `===`, so controllers queue string keys, never objects.
 */

import { Clock, realClock, TimerHandle } from './clock';
import { InFlightWork, noQueueMetrics, QueueMetrics, RuntimeMetrics } from './metrics';
import { defaultControllerRateLimiter, RateLimiter } from './rate-limiter';

export interface WorkQueueOptions<T> {
  /** Names the queue in metrics (controller-runtime uses the controller name). */
  name: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
  metrics?: RuntimeMetrics;
}

interface PendingAdd {
  readonly due: number;
  readonly timer: TimerHandle;
}

export class WorkQueue<T extends string | number> implements InFlightWork {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<T>;
  private readonly metrics: QueueMetrics;

  private readonly queue: T[] = [];
  /** Items that need processing: queued, or re-added while processing. Value: when it was added. */
  private readonly dirty = new Map<T, number>();
  /** Items handed to a worker and not yet `done`. Value: when processing started. */
  private readonly processing = new Map<T, number>();
  private readonly delayed = new Map<T, PendingAdd>();
  private readonly waiters: ((item: T | undefined) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions<T>) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
    this.metrics = options.metrics ? options.metrics.forQueue(options.name, this) : noQueueMetrics;
  }

  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.metrics.added();
    this.dirty.set(item, this.clock.now());
    if (this.processing.has(item)) return;
    this.enqueue(item);
  }

  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(item);
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(item);
    if (pending && pending.due <= due) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(item);
      this.add(item);
    }, ms);
    this.delayed.set(item, { due, timer });
  }

  addRateLimited(item: T): void {
    this.metrics.retried();
    this.addAfter(item, this.rateLimiter.when(item));
  }

  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  /** The next item to process; undefined once the queue shuts down. Call `done` when finished with it. */
  get(): Promise<T | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const item = this.queue.shift();
    if (item !== undefined) return Promise.resolve(this.startProcessing(item));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(item: T): void {
    const started = this.processing.get(item);
    if (started === undefined) return;
    this.processing.delete(item);
    this.metrics.finished((this.clock.now() - started) / 1000);
    if (!this.shuttingDown && this.dirty.has(item)) this.enqueue(item);
    if (this.processing.size === 0) this.drainWaiters.splice(0).forEach((resolve) => resolve());
  }

  /** Items waiting to be handed out (not counting delayed or in-process ones). */
  len(): number {
    return this.queue.length;
  }

  /** Stops handing out work at once: waiting `get` calls resolve undefined, queued and delayed items are dropped. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const pending of this.delayed.values()) this.clock.clearTimeout(pending.timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.metrics.release();
    this.waiters.splice(0).forEach((resolve) => resolve(undefined));
  }

  /** Like shutDown, then resolves once every item handed out so far is `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const started of this.processing.values()) total += (now - started) / 1000;
    return total;
  }

  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let longest = 0;
    for (const started of this.processing.values()) longest = Math.max(longest, (now - started) / 1000);
    return longest;
  }

  private enqueue(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter(this.startProcessing(item));
    this.queue.push(item);
  }

  private startProcessing(item: T): T {
    const now = this.clock.now();
    this.metrics.started((now - (this.dirty.get(item) ?? now)) / 1000);
    this.dirty.delete(item);
    this.processing.set(item, now);
    return item;
  }
}
