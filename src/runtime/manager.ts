/**
 * The Manager wires the runtime together for one process: shared informers, controllers, metrics and
 * health servers, leader election, the event recorder, and graceful shutdown.
 *
 * Informers run on every replica (a follower's warm cache makes takeover fast); controllers run only
 * while this replica leads. Losing the lease is fatal, as in controller-runtime: writes are refused at
 * once (the guarded store), workers stop, and start() rejects so the process exits and restarts as a
 * clean candidate.
 */

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { Clock, realClock } from './clock';
import { Controller, ControllerOptions } from './controller';
import { EventRecorder, StoreEventRecorder } from './events';
import { HealthCheck, ListenOptions, RunningServer, serveHealth, serveMetrics } from './http-servers';
import { InformerOptions, SharedInformer } from './informer';
import { LeaderElector } from './leader-election';
import { LeaderGuardedStore } from './leader-guarded-store';
import { ReferencedObjects } from './referenced-objects';
import { createLogger, Logger } from './logger';
import { createRegistry, RuntimeMetrics } from './metrics';
import { KubeObject, ObjectStore, resourceKey, ResourceType } from '../store/object-store';

export interface LeaderElectionSettings {
  /** Namespace of the Lease, e.g. the operator's own namespace. */
  namespace: string;
  /** Name of the Lease, e.g. `berth-operator`. */
  name: string;
  /** Defaults to `<hostname>_<uuid>`, unique per process as controller-runtime's. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Clear the holder on graceful shutdown so the other replica takes over at once. Default true. */
  releaseOnCancel?: boolean;
}

export interface ManagerOptions {
  store: ObjectStore;
  logger?: Logger;
  clock?: Clock;
  /** Default: a fresh registry with process metrics. */
  registry?: Registry;
  /** `/metrics`; default 0.0.0.0:8080; false to not serve. */
  metricsServer?: ListenOptions | false;
  /** `/healthz` and `/readyz`; default 0.0.0.0:8081; false to not serve. */
  healthServer?: ListenOptions | false;
  /** false (embedded mode, the default) runs controllers at once. */
  leaderElection?: LeaderElectionSettings | false;
  /** How long stop() waits for reconciles in flight. Default 30 s. */
  gracefulShutdownTimeoutMs?: number;
  /** /healthz fails when leading without renewing for leaseDuration plus this. Default 20 s. */
  leaderHealthGraceMs?: number;
  informerDefaults?: Pick<InformerOptions, 'resyncPeriodMs' | 'stallTimeoutMs'>;
  /** `source.component` of recorded Events. Default `berth-operator`. */
  eventComponent?: string;
}

export type ManagedControllerOptions = Omit<ControllerOptions, 'clock' | 'logger' | 'metrics'>;

export class LeaderElectionLostError extends Error {
  constructor() {
    super('leader election lost');
    this.name = 'LeaderElectionLostError';
  }
}

export class Manager {
  /** The store for controllers: writes are refused unless this replica leads. */
  readonly store: ObjectStore;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly identity: string;
  /** Set once start() has bound it (its port, when 0 was asked for). */
  metricsServer: RunningServer | undefined;
  healthServer: RunningServer | undefined;

  private readonly rawStore: ObjectStore;
  readonly clock: Clock;
  private readonly options: ManagerOptions;
  private readonly elector: LeaderElector | undefined;
  private readonly electionAbort = new AbortController();
  /** Aborted as shutdown begins: ends a wait for caches that may never sync. */
  private readonly shutdownAbort = new AbortController();
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private readonly referenced = new Map<string, ReferencedObjects<KubeObject>>();
  private readonly controllers: Controller[] = [];
  private readonly whenSynced: (() => void)[] = [];
  private readonly controllerRuns: Promise<void>[] = [];
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private controllersRunning = false;
  private electionRun: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.rawStore = options.store;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? createLogger();
    this.registry = options.registry ?? createRegistry();
    this.metrics = new RuntimeMetrics(this.registry);
    const election = options.leaderElection;
    this.identity = (election && election.identity) || `${hostname()}_${randomUUID()}`;
    if (election) {
      this.elector = new LeaderElector(
        {
          store: this.rawStore,
          namespace: election.namespace,
          name: election.name,
          identity: this.identity,
          leaseDurationMs: election.leaseDurationMs,
          renewDeadlineMs: election.renewDeadlineMs,
          retryPeriodMs: election.retryPeriodMs,
          releaseOnCancel: election.releaseOnCancel ?? true,
          clock: this.clock,
          logger: this.logger,
          metrics: this.metrics,
        },
        { onStartedLeading: () => this.startControllers(), onStoppedLeading: () => this.onStoppedLeading() },
      );
    }
    const elector = this.elector;
    this.store = elector ? new LeaderGuardedStore(this.rawStore, () => elector.isLeader()) : this.rawStore;
    this.events = new StoreEventRecorder({
      store: this.store,
      component: options.eventComponent ?? 'berth-operator',
      instance: this.identity,
      clock: this.clock,
      logger: this.logger,
    });
  }

  /**
   * The one informer per resource type, namespace and selector that all controllers share. A label
   * selector keeps a cache to the objects Berth owns where the resource is shared with others (Leases);
   * a field selector keeps one to a single object where a process needs no more (berth agent's own instance).
   */
  informerFor<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    selector: { labelSelector?: string; fieldSelector?: string } = {},
  ): SharedInformer<T> {
    const key = `${resourceKey(type)}/${namespace ?? ''}?${selector.labelSelector ?? ''}&${selector.fieldSelector ?? ''}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new SharedInformer<KubeObject>(this.rawStore, type, {
        ...this.options.informerDefaults,
        namespace,
        labelSelector: selector.labelSelector,
        fieldSelector: selector.fieldSelector,
        clock: this.clock,
        logger: this.logger,
      });
      this.informers.set(key, informer);
      if (this.state === 'running') informer.start();
    }
    return informer as unknown as SharedInformer<T>;
  }

  /** The one cache per resource type of the objects that something references by name (Secrets a task definition names). */
  referencedObjects<T extends KubeObject>(type: ResourceType): ReferencedObjects<T> {
    const key = resourceKey(type);
    let cache = this.referenced.get(key);
    if (!cache) {
      cache = new ReferencedObjects<KubeObject>(this.rawStore, type, { clock: this.clock, logger: this.logger });
      this.referenced.set(key, cache);
      if (this.state === 'running') cache.start();
    }
    return cache as unknown as ReferencedObjects<T>;
  }

  addController(options: ManagedControllerOptions): Controller {
    const controller = new Controller({ ...options, clock: this.clock, logger: this.logger, metrics: this.metrics });
    this.controllers.push(controller);
    if (this.controllersRunning) this.runController(controller);
    return controller;
  }

  /**
   * Calls `start` when the controllers start — every cache synced, and leading when elected — as
   * controller-runtime runs a Runnable: for work that is not a controller (berth agent attaching its
   * instance) but must not begin on caches still filling.
   */
  onControllersStart(start: () => void): void {
    if (this.controllersRunning) start();
    else this.whenSynced.push(start);
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.state === 'running';
  }

  /**
   * Runs until `signal` aborts or stop() is called (then resolves after the graceful shutdown), or
   * until leadership is lost (then rejects with LeaderElectionLostError after shutting down).
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'new') throw new Error('a manager starts only once');
    this.state = 'running';
    const finished = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    try {
      await this.startServers();
    } catch (error) {
      await this.stop();
      throw error;
    }
    for (const informer of this.informers.values()) informer.start();
    for (const cache of this.referenced.values()) cache.start();
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (this.elector) this.electionRun = this.elector.run(this.electionAbort.signal);
    else this.startControllers();
    if (signal?.aborted) void this.stop();
    return finished;
  }

  /** Graceful shutdown: stop taking work, drain reconciles in flight, release the lease, close servers. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown(this.options.gracefulShutdownTimeoutMs ?? 30_000).then(() => this.settle?.resolve());
    return this.stopping;
  }

  private async shutDown(drainTimeoutMs: number): Promise<void> {
    this.state = 'stopping';
    this.shutdownAbort.abort();
    this.logger.info('stopping: draining reconciles in flight', { drainTimeoutMs });
    await this.stopControllers(drainTimeoutMs);
    // Only after the workers are done: the lease must not change hands while our reconciles still write.
    this.electionAbort.abort();
    await this.electionRun;
    for (const informer of this.informers.values()) informer.stop();
    for (const cache of this.referenced.values()) cache.stop();
    await Promise.all([this.metricsServer?.close(), this.healthServer?.close()]);
    this.state = 'stopped';
    this.logger.info('stopped');
  }

  private onStoppedLeading(): void {
    if (this.state !== 'running') return;
    this.logger.error('leader election lost: stopping all controllers');
    this.stopping = this.shutDown(0).then(() => this.settle?.reject(new LeaderElectionLostError()));
  }

  /**
   * Controllers start only once every informer has synced, not just the ones they watch: a reconcile
   * reads other caches too (a Task's revision, a Service's instances), and an object missing from a
   * cache that is still filling would look deleted. After a restart that is the difference between
   * carrying on and stopping healthy tasks for "task definition not found".
   */
  private startControllers(): void {
    if (this.state !== 'running') return;
    const starting = this.waitForCacheSync().then((synced) => {
      if (!synced || this.state !== 'running') return;
      this.controllersRunning = true;
      for (const controller of this.controllers) this.runController(controller);
      for (const start of this.whenSynced.splice(0)) start();
    });
    this.controllerRuns.push(starting);
  }

  private async waitForCacheSync(): Promise<boolean> {
    const informers = [...this.informers.values()];
    const shuttingDown = new Promise<boolean[]>((resolve) => this.shutdownAbort.signal.addEventListener('abort', () => resolve([false]), { once: true }));
    const synced = await Promise.race([Promise.all(informers.map((informer) => informer.waitForSync())), shuttingDown]);
    if (synced.every(Boolean)) return true;
    this.logger.info('stopped before every cache synced; no controller started');
    return false;
  }

  private runController(controller: Controller): void {
    this.controllerRuns.push(
      controller.start().catch((error: unknown) => {
        this.logger.error('controller failed', { controller: controller.name, error: error instanceof Error ? error.message : String(error) });
      }),
    );
  }

  private async stopControllers(drainTimeoutMs: number): Promise<void> {
    await Promise.all(this.controllers.map((controller) => controller.stop(drainTimeoutMs)));
    await Promise.all(this.controllerRuns);
  }

  private async startServers(): Promise<void> {
    if (this.options.metricsServer !== false) {
      this.metricsServer = await serveMetrics(this.registry, this.options.metricsServer);
      // With port 0 the kernel picks one: this line is the only place that says which.
      this.logger.info('serving metrics', { address: `${this.metricsServer.host}:${this.metricsServer.port}`, path: '/metrics' });
    }
    if (this.options.healthServer !== false) {
      const healthz: Record<string, HealthCheck> = { ping: () => undefined };
      const elector = this.elector;
      if (elector) healthz.leaderElection = () => elector.healthError(this.options.leaderHealthGraceMs ?? 20_000);
      const readyz: Record<string, HealthCheck> = {
        informers: () => {
          const waiting = [...this.informers.entries()].filter(([, informer]) => !informer.hasSynced()).map(([key]) => key);
          return waiting.length ? `not synced: ${waiting.join(', ')}` : undefined;
        },
      };
      this.healthServer = await serveHealth({ healthz, readyz }, this.options.healthServer);
    }
  }
}
