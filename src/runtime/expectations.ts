import { Clock, realClock } from './clock';

/**
 * What a controller already did and its cache does not show yet, per owner key: the
 * ControllerExpectations of Kubernetes' ReplicaSet controller, by object name rather than by count so
 * that one observation can never satisfy another's expectation.
 *
 * A reconcile that created tasks `web-a-0`, `web-a-1` records them; until the informer shows both
 * (or the create failed and the expectation was dropped), the owner's next reconcile would see too few
 * tasks and create them again. So the controller asks `satisfied(owner)` first and does not act while
 * expectations are pending; the informer events that lower them requeue the owner anyway. Expectations
 * expire after `ttlMs` (5 minutes, as Kubernetes') so that a lost event can delay, never stall.
 *
 *   e.g. reconcile 1: 2 tasks missing → create web-a-0, web-a-1; expect adds {web-a-0, web-a-1}
 *        informer: add web-a-0     → pending {web-a-1}; reconcile 2 acts on nothing
 *        informer: add web-a-1     → pending {};        reconcile 3 sees 2 tasks, creates none
 */
export type ExpectedChange = 'add' | 'update' | 'delete';

interface Pending {
  names: Map<string, ExpectedChange>;
  /** When the oldest pending expectation was recorded. */
  sinceMs: number;
}

export class Expectations {
  private readonly pending = new Map<string, Pending>();
  private readonly clock: Clock;
  private readonly ttlMs: number;

  constructor(options: { clock?: Clock; ttlMs?: number } = {}) {
    this.clock = options.clock ?? realClock;
    this.ttlMs = options.ttlMs ?? 5 * 60 * 1000;
  }

  /** Before acting: record that `names` (objects owned by `owner`) will be added, changed or deleted. */
  expect(owner: string, change: ExpectedChange, names: Iterable<string>): void {
    let entry = this.pending.get(owner);
    for (const name of names) {
      if (!entry) this.pending.set(owner, (entry = { names: new Map(), sinceMs: this.clock.now() }));
      entry.names.set(name, change);
    }
  }

  /** The informer showed `change` of `name`, or the write for it failed: stop waiting for it. */
  observed(owner: string, name: string, change?: ExpectedChange): void {
    const entry = this.pending.get(owner);
    if (!entry) return;
    const expected = entry.names.get(name);
    if (expected === undefined || (change !== undefined && expected !== change)) return;
    entry.names.delete(name);
    if (entry.names.size === 0) this.pending.delete(owner);
  }

  /** True when nothing is pending for `owner`, or what is pending has waited longer than the TTL. */
  satisfied(owner: string): boolean {
    const entry = this.pending.get(owner);
    if (!entry) return true;
    if (this.clock.now() - entry.sinceMs < this.ttlMs) return false;
    this.pending.delete(owner);
    return true;
  }

  /** How long until `owner`'s pending expectations expire (0 when satisfied). */
  remainingMs(owner: string): number {
    const entry = this.pending.get(owner);
    return entry ? Math.max(0, entry.sinceMs + this.ttlMs - this.clock.now()) : 0;
  }

  /** The owner is gone. */
  forget(owner: string): void {
    this.pending.delete(owner);
  }
}
