/**
 * The runtime's Prometheus metrics, named exactly as controller-runtime exports them so existing
 * dashboards and alerts for Go operators work on Berth unchanged.
 *
 * Metrics live in a Registry the caller owns (one per process in the operator, a fresh one per test or
 * Manager) because prom-client refuses to register a metric name twice in one registry.
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** What a workqueue reports about itself; the queue calls these as items move through it. */
export interface QueueMetrics {
  added(): void;
  /** An item was handed to a worker after waiting `seconds` in the queue. */
  started(seconds: number): void;
  /** A worker finished an item after `seconds`. */
  finished(seconds: number): void;
  retried(): void;
  /** The queue is shut down: it no longer counts towards its name's gauges. */
  release(): void;
}

/**
 * Read at scrape time rather than on a ticker: only a scrape needs the value. Several queues may
 * share a name (the agent runs one per container instance): their values add up.
 */
export interface InFlightWork {
  /** Items waiting to be processed. */
  len(): number;
  /** Sum of how long every item being processed has been processing. */
  unfinishedWorkSeconds(): number;
  longestRunningProcessorSeconds(): number;
}

export const noQueueMetrics: QueueMetrics = {
  added: () => {},
  started: () => {},
  finished: () => {},
  retried: () => {},
  release: () => {},
};

// controller-runtime's buckets: the workqueue histograms span 10 ns to 1000 s, reconcile time 5 ms to 60 s.
const workqueueBuckets = Array.from({ length: 12 }, (_, i) => 10e-9 * 10 ** i);
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8,
  9, 10, 15, 20, 25, 30, 40, 50, 60,
];

type QueueLabel = 'name' | 'controller';

/** The `result` label of controller_runtime_reconcile_total. */
export const reconcileOutcomes = ['success', 'error', 'requeue', 'requeue_after'] as const;
export type ReconcileOutcome = (typeof reconcileOutcomes)[number];

export class RuntimeMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly leaderElectionMasterStatus: Gauge<'name'>;

  private readonly queueAdds: Counter<QueueLabel>;
  private readonly queueLatency: Histogram<QueueLabel>;
  private readonly workDuration: Histogram<QueueLabel>;
  private readonly retries: Counter<QueueLabel>;
  private readonly inFlight = new Map<string, Set<InFlightWork>>();

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: reconcileBuckets,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.leaderElectionMasterStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'],
      registers,
    });
    const labelNames: QueueLabel[] = ['name', 'controller'];
    const inFlight = this.inFlight;
    const collectSum = (read: (work: InFlightWork) => number) =>
      function (this: Gauge<QueueLabel>) {
        for (const [name, queues] of inFlight)
          this.set(
            { name, controller: name },
            [...queues].reduce((sum, work) => sum + read(work), 0),
          );
      };
    new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers, collect: collectSum((work) => work.len()) });
    this.queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers });
    this.queueLatency = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames,
      buckets: workqueueBuckets,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames,
      buckets: workqueueBuckets,
      registers,
    });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers });
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
        'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
      labelNames,
      registers,
      collect: collectSum((work) => work.unfinishedWorkSeconds()),
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames,
      registers,
      collect() {
        for (const [name, queues] of inFlight)
          this.set({ name, controller: name }, Math.max(0, ...[...queues].map((work) => work.longestRunningProcessorSeconds())));
      },
    });
  }

  /** Metrics for the queue of controller `name`; controller-runtime labels queues with both name and controller. */
  forQueue(name: string, inFlight: InFlightWork): QueueMetrics {
    let queues = this.inFlight.get(name);
    if (!queues) this.inFlight.set(name, (queues = new Set()));
    queues.add(inFlight);
    const labels = { name, controller: name };
    return {
      added: () => this.queueAdds.inc(labels),
      started: (seconds) => this.queueLatency.observe(labels, seconds),
      finished: (seconds) => this.workDuration.observe(labels, seconds),
      retried: () => this.retries.inc(labels),
      release: () => queues.delete(inFlight),
    };
  }
}
