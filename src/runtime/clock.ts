/**
 * Time as the runtime sees it. Every delay in the runtime (backoff, requeue-after, watchdogs, lease
 * renewal) goes through a Clock so tests can drive hours of behaviour in milliseconds with FakeClock.
 */

/** Opaque handle returned by Clock.setTimeout. */
export type TimerHandle = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** metav1.Time: RFC 3339 to the second, as the API server stores it (e.g. 2026-03-02T08:00:00Z). */
export function metaTime(at: number | Date): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Resolves after `ms`, or as soon as `signal` aborts (callers check `signal.aborted` afterwards). */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** Rejects with TimeoutError when `promise` has not settled within `ms`; the operation itself keeps running. */
export function withTimeout<T>(clock: Clock, promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new TimeoutError(`${what} did not finish within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface FakeTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when a test advances it. Timers fire in due order, and pending promise
 * callbacks run between timers so async code observes each instant as it would in real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(startMs = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, due: this.current + Math.max(0, ms), callback };
    this.timers.set(timer.id, timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as { id: number }).id);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward without firing timers, as when the whole process was frozen (SIGSTOP, a paused VM). */
  jump(ms: number): void {
    this.current += ms;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliestDueBy(target);
      if (!next) break;
      this.timers.delete(next.id);
      this.current = next.due;
      next.callback();
      await settle();
    }
    this.current = target;
    await settle();
  }

  private earliestDueBy(target: number): FakeTimer | undefined {
    let earliest: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.due <= target && (!earliest || timer.due < earliest.due || (timer.due === earliest.due && timer.id < earliest.id))) {
        earliest = timer;
      }
    }
    return earliest;
  }
}

/** Lets promise chains (including ones that hop through setImmediate) run to completion. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
