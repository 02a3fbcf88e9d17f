/**
 * Lease-based leader election (coordination.k8s.io/v1), following client-go's leaderelection package
 * so a Berth replica behaves exactly like a Go controller-manager replica:
 *
 * - a candidate tries every retryPeriod to take the Lease: when it does not exist, when its holder is
 *   empty (released), or when it has not changed for leaseDuration as measured by the candidate's own
 *   clock since it last saw the record change — never by comparing timestamps written by another
 *   machine, so clock skew between replicas cannot cause two leaders;
 * - all writes are optimistic (resourceVersion): of two candidates racing, one gets 409 and waits;
 * - the leader renews every retryPeriod; if no renewal succeeds within renewDeadline it stops leading.
 *   renewDeadline < leaseDuration, so it steps down before anybody else can take over.
 */

import { Clock, delay, realClock, withTimeout } from './clock';
import { Logger, silentLogger } from './logger';
import { RuntimeMetrics } from './metrics';
import { isStoreError, KubeObject, ObjectStore } from '../store/object-store';

import { leases as leaseType } from '../store/builtin-types';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime, e.g. 2006-01-02T15:04:05.000000Z */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** metav1.MicroTime's wire format: RFC 3339 with exactly six fractional digits, in UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaderElectionConfig {
  store: ObjectStore;
  /** Where the Lease lives. */
  namespace: string;
  /** The Lease's name; also the `name` label of leader_election_master_status. */
  name: string;
  /** Unique per replica, e.g. the pod name plus a random suffix. */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the holder when stopping on purpose, so another replica takes over without waiting for expiry. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  /** Called whenever leading ends: renewal failed, or run's signal aborted. */
  onStoppedLeading(): void;
}

export class LeaderElector {
  readonly identity: string;
  private readonly store: ObjectStore;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: RuntimeMetrics | undefined;

  private leading = false;
  private lastRenewMs = 0;
  /** The Lease spec as last seen, and when (by our clock) we saw it change. */
  private observedRecord: LeaseSpec | undefined;
  private observedTimeMs = 0;

  constructor(
    config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
  ) {
    this.store = config.store;
    this.namespace = config.namespace;
    this.name = config.name;
    this.identity = config.identity;
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    this.releaseOnCancel = config.releaseOnCancel ?? false;
    this.clock = config.clock ?? realClock;
    this.log = (config.logger ?? silentLogger()).child({ lease: `${config.namespace}/${config.name}`, identity: config.identity });
    this.metrics = config.metrics;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (this.retryPeriodMs >= this.renewDeadlineMs) throw new Error('leader election: retryPeriod must be shorter than renewDeadline');
  }

  /**
   * True while this replica leads and renewed the Lease within renewDeadline. Checked before every
   * write: a leader whose renewals stall refuses writes before anybody else can acquire the Lease.
   */
  isLeader(): boolean {
    return this.leading && this.clock.now() - this.lastRenewMs < this.renewDeadlineMs;
  }

  /** For /healthz: an error when we lead but have not renewed for longer than leaseDuration + grace (we are stuck). */
  healthError(graceMs: number): string | undefined {
    if (!this.leading) return undefined;
    const sinceRenew = this.clock.now() - this.lastRenewMs;
    return sinceRenew > this.leaseDurationMs + graceMs ? `leader election lease not renewed for ${sinceRenew} ms` : undefined;
  }

  /** Campaigns until leading, then renews until renewal fails or `signal` aborts. Resolves 'lost' or 'cancelled'. */
  async run(signal: AbortSignal): Promise<'lost' | 'cancelled'> {
    this.setMasterStatus(false);
    this.log.info('attempting to acquire leader lease');
    while (!signal.aborted && !(await this.attempt(this.renewDeadlineMs))) await delay(this.clock, this.retryPeriodMs, signal);
    if (signal.aborted) return 'cancelled';

    this.leading = true;
    this.setMasterStatus(true);
    this.log.info('successfully acquired lease');
    this.callbacks.onStartedLeading();

    const outcome = await this.renewUntilLost(signal);
    this.leading = false;
    this.setMasterStatus(false);
    if (outcome === 'lost') this.log.error('failed to renew the lease within the renew deadline, stopped leading', { renewDeadlineMs: this.renewDeadlineMs });
    else if (this.releaseOnCancel) await this.release();
    this.callbacks.onStoppedLeading();
    return outcome;
  }

  private async renewUntilLost(signal: AbortSignal): Promise<'lost' | 'cancelled'> {
    for (;;) {
      await delay(this.clock, this.retryPeriodMs, signal);
      if (signal.aborted) return 'cancelled';
      const deadline = this.clock.now() + this.renewDeadlineMs;
      while (!(await this.attempt(deadline - this.clock.now()))) {
        if (signal.aborted) return 'cancelled';
        const remainingMs = deadline - this.clock.now();
        if (remainingMs <= 0) return 'lost';
        await delay(this.clock, Math.min(this.retryPeriodMs, remainingMs), signal);
      }
    }
  }

  /** One tryAcquireOrRenew bounded by `timeoutMs`: a hung API call must not keep us leading. */
  private async attempt(timeoutMs: number): Promise<boolean> {
    try {
      return await withTimeout(this.clock, this.tryAcquireOrRenew(), timeoutMs, 'lease update');
    } catch (error) {
      this.log.warn('error acquiring or renewing the lease', { error: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const lease = await this.store.get<Lease>(leaseType, this.namespace, this.name);
    if (!lease) return this.create(now);

    const record = lease.spec ?? {};
    this.observe(record);
    const holder = record.holderIdentity ?? '';
    // Expiry uses our configured leaseDuration rather than the record's whole seconds: replicas share one
    // configuration, and it keeps sub-second leases (tests) exact.
    if (holder !== '' && holder !== this.identity && this.observedTimeMs + this.leaseDurationMs > now) return false;

    const renewing = holder === this.identity;
    const next: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds(),
      acquireTime: renewing ? record.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: renewing ? (record.leaseTransitions ?? 0) : (record.leaseTransitions ?? 0) + 1,
    };
    try {
      const updated = await this.store.update<Lease>(leaseType, { ...lease, spec: next });
      this.renewed(updated, now);
      if (!renewing) this.log.info('took over the lease', { previousHolder: holder || undefined, leaseTransitions: next.leaseTransitions });
      return true;
    } catch (error) {
      if (isStoreError(error, 'Conflict')) return false;
      throw error;
    }
  }

  private async create(now: number): Promise<boolean> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: this.namespace, name: this.name },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      this.renewed(await this.store.create<Lease>(leaseType, lease), now);
      return true;
    } catch (error) {
      if (isStoreError(error, 'AlreadyExists')) return false;
      throw error;
    }
  }

  /** Gives the lease up on purpose, as client-go's ReleaseOnCancel does: empty holder, so the next candidate need not wait. */
  private async release(): Promise<void> {
    try {
      const lease = await this.store.get<Lease>(leaseType, this.namespace, this.name);
      if (lease?.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.clock.now());
      await this.store.update<Lease>(leaseType, {
        ...lease,
        spec: { leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 },
      });
      this.log.info('released the lease');
    } catch (error) {
      this.log.warn('failed to release the lease; another replica takes over once it expires', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private observe(record: LeaseSpec): void {
    const previous = this.observedRecord;
    if (
      previous?.holderIdentity === record.holderIdentity &&
      previous?.renewTime === record.renewTime &&
      previous?.acquireTime === record.acquireTime &&
      previous?.leaseTransitions === record.leaseTransitions
    ) {
      return;
    }
    if (previous?.holderIdentity !== record.holderIdentity && record.holderIdentity) this.log.info('observed a new leader', { leader: record.holderIdentity });
    this.observedRecord = record;
    this.observedTimeMs = this.clock.now();
  }

  private renewed(lease: Lease, now: number): void {
    this.observedRecord = lease.spec ?? {};
    this.observedTimeMs = this.clock.now();
    this.lastRenewMs = now;
  }

  /** The record states whole seconds; sub-second durations (tests) round up to 1. */
  private leaseDurationSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
  }

  private setMasterStatus(leading: boolean): void {
    this.metrics?.leaderElectionMasterStatus.set({ name: this.name }, leading ? 1 : 0);
  }
}
