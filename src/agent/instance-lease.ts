import { containerInstanceLeaseLabel, containerInstanceLeaseLabelValue, instanceLeaseName, type ContainerInstance } from '../api';
import type { Clock, TimerHandle } from '../runtime/clock';
import { microTime, type Lease } from '../runtime/leader-election';
import type { Logger } from '../runtime/logger';
import { leases } from '../store/builtin-types';
import { isStoreError, type ObjectStore } from '../store/object-store';

/**
 * The agent's heartbeat, as kubelet's node lease: a `coordination.k8s.io` Lease per container
 * instance, renewed every `renewIntervalMs`. A renewal is one small write that no controller watches
 * for work, where a status heartbeat would be a write of the whole instance status that wakes every
 * service of the cluster. The instance controller reads the Lease and turns `agentConnected` false once
 * it lapses; status itself is written only when something in it changes.
 *
 * The Lease is owned by its ContainerInstance, so it goes when the instance is deleted.
 *
 * A renewal says the instance can run tasks, so it is made only while the instance's engine answers
 * (`engineAnswers`). The ECS agent runs on the host's Docker engine and goes down with it, and the
 * instance shows disconnected; an agent that kept renewing with its engine gone would keep taking new
 * tasks it cannot run. e.g. engine down at 12:00:05, last renewal 12:00:00 for 40 s: the instance shows
 * disconnected from 12:00:40 until the first renewal after the engine answers again (within 10 s of it).
 */
export const instanceLeaseDurationSeconds = 40;
export const instanceLeaseRenewIntervalMs = 10_000;

export interface InstanceLeaseOptions {
  store: ObjectStore;
  clock: Clock;
  log: Logger;
  /** Who renews: the agent's identity. */
  holder: string;
  /** Resolves when the instance's engine answers, rejects when it cannot be reached: no renewal then. */
  engineAnswers?: () => Promise<unknown>;
  renewIntervalMs?: number;
  durationSeconds?: number;
}

export class InstanceLease {
  private lease: Lease | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly renewIntervalMs: number;
  private readonly durationSeconds: number;

  constructor(
    private readonly instance: ContainerInstance,
    private readonly options: InstanceLeaseOptions,
  ) {
    this.renewIntervalMs = options.renewIntervalMs ?? instanceLeaseRenewIntervalMs;
    this.durationSeconds = options.durationSeconds ?? instanceLeaseDurationSeconds;
  }

  /** Renews now, then every interval until stopped. */
  start(): Promise<void> {
    return this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (await this.engineReachable()) await this.renew();
    } catch (error) {
      this.options.log.warn('lease renewal failed', { instance: this.instance.metadata.name, error: (error as Error).message });
    }
    if (!this.stopped) this.timer = this.options.clock.setTimeout(() => void this.tick(), this.renewIntervalMs);
  }

  /** An engine that does not answer within a renewal interval (a hung socket) counts as unreachable. */
  private async engineReachable(): Promise<boolean> {
    const { engineAnswers, clock } = this.options;
    if (!engineAnswers) return true;
    let timer: TimerHandle | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => reject(new Error(`no answer within ${this.renewIntervalMs} ms`)), this.renewIntervalMs);
    });
    try {
      const answer = engineAnswers();
      answer.catch(() => undefined); // a late failure, after the timeout won, is already accounted for
      await Promise.race([answer, late]);
      return true;
    } catch (error) {
      this.options.log.warn('engine unreachable: the heartbeat Lease is not renewed', {
        instance: this.instance.metadata.name,
        error: (error as Error).message,
      });
      return false;
    } finally {
      if (timer) clock.clearTimeout(timer);
    }
  }

  /** One write: an update of the Lease last written (its resourceVersion in hand), else a create. */
  private async renew(): Promise<void> {
    const now = microTime(this.options.clock.now());
    const { namespace, name, uid } = this.instance.metadata;
    if (!this.lease) {
      const existing = await this.options.store.get<Lease>(leases, namespace, instanceLeaseName(name));
      if (!existing) {
        this.lease = await this.options.store.create<Lease>(leases, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: instanceLeaseName(name),
            namespace,
            labels: { [containerInstanceLeaseLabel]: containerInstanceLeaseLabelValue(name) },
            ownerReferences: [{ apiVersion: this.instance.apiVersion, kind: this.instance.kind, name, uid: uid!, controller: true, blockOwnerDeletion: false }],
          },
          spec: { holderIdentity: this.options.holder, leaseDurationSeconds: this.durationSeconds, acquireTime: now, renewTime: now },
        });
        return;
      }
      this.lease = existing;
    }
    try {
      this.lease = await this.options.store.update<Lease>(leases, {
        ...this.lease,
        spec: { ...this.lease.spec, holderIdentity: this.options.holder, leaseDurationSeconds: this.durationSeconds, renewTime: now },
      });
    } catch (error) {
      // Someone else wrote it, or it is gone: read it afresh on the next tick.
      this.lease = undefined;
      if (!isStoreError(error, 'Conflict') && !isStoreError(error, 'NotFound')) throw error;
    }
  }
}
