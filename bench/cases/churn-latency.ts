/**
 * churn-latency: 500 services, 20 spec changes a second (desiredCount toggled 1 ↔ 2, round robin) for
 * 60 s, through the real kube-apiserver. For each change: from the watch event that delivers it to
 * the operator — timestamped by a handler of our own on the very shared informer the service
 * controller uses, registered before the controller's — to the first write the control plane issues
 * for that service (its status, one of its tasks, an Event about it), timestamped by the store
 * wrapper as the write leaves. Value: the p99.
 *
 * Baseline: the same latency for a trivial controller on the same runtime, in the same manager and
 * run: on each new generation of a Service it patches a ConfigMap with that generation. Its p99 is
 * what the runtime itself (informer → workqueue → worker → write) costs under the same load.
 */
import { events as eventType, configMaps } from '../../src/store/builtin-types';
import { serviceLabel, services as serviceType, taskDefinitions, tasks as taskType, type Service, type Task } from '../../src/api';
import type { Manager } from '../../src/runtime/manager';
import type { SharedInformer } from '../../src/runtime/informer';
import { kubeBackend } from '../support/backends';
import type { BenchCase } from '../support/bench-case';
import type { CountingStore, IssuedWrite } from '../support/counting-store';
import { clusterName, controlPlaneFor, familyName, instancesFor, isRunning, isSteady, provisionInstances } from '../support/fleet';
import { PredicateCount } from '../support/informer-counts';
import { serviceManifest, taskDefinitionManifest } from '../support/objects';
import { forEachConcurrently } from '../support/pool';
import { log, round } from '../support/report';
import { percentile } from '../support/stats';

const fullServices = 500;
const changesPerSecond = 20;
const fullDurationMs = 60_000;
/** A change whose write has not come this long after the churn ends is counted as unanswered. */
const answerGraceMs = 30_000;
const ackPrefix = 'ack-';
/**
 * The trivial controller makes one reconcile per change (20/s, one patch of a few ms each): two workers
 * serve that with room to spare, so its p99 is the runtime's own cost, not a queue.
 */
const echoWorkers = 2;

/** Per service: the generation last delivered and when, until a write answers it. */
class LatencyProbe {
  readonly samples: number[] = [];
  private readonly pending = new Map<string, { generation: number; at: number }>();
  private idle: (() => void) | undefined;

  delivered(service: string, generation: number, at: number): void {
    if (!this.pending.has(service)) this.pending.set(service, { generation, at });
  }

  /** A write for `service` made knowing `generation` (undefined: the write itself cannot say, so any counts). */
  wrote(service: string, generation: number | undefined, at: number): void {
    const waiting = this.pending.get(service);
    if (!waiting || at < waiting.at || (generation !== undefined && generation < waiting.generation)) return;
    this.samples.push(at - waiting.at);
    this.pending.delete(service);
    if (this.pending.size === 0) this.idle?.();
  }

  get unanswered(): number {
    return this.pending.size;
  }

  /** Resolves when every delivered change has been answered, or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }

  summary(): Record<string, number> {
    return {
      samples: this.samples.length,
      p50Ms: round(percentile(this.samples, 50)),
      p90Ms: round(percentile(this.samples, 90)),
      p99Ms: round(percentile(this.samples, 99)),
      maxMs: round(Math.max(...this.samples)),
      unanswered: this.unanswered,
    };
  }
}

/** The Service a control-plane write is for, and the generation it was decided on when the write says so. */
function attribute(write: IssuedWrite, tasks: SharedInformer<Task>): { service: string; generation?: number } | undefined {
  const object = write.object as (Service & Task & { involvedObject?: { kind: string; name: string } }) | undefined;
  switch (write.type.plural) {
    case serviceType.plural:
      return { service: write.name, ...(object ? { generation: object.metadata.generation } : {}) };
    case taskType.plural: {
      const labels = object?.metadata.labels ?? tasks.get(write.namespace, write.name)?.metadata.labels;
      return labels?.[serviceLabel] ? { service: labels[serviceLabel] } : undefined;
    }
    case eventType.plural:
      return object?.involvedObject?.kind === 'Service' ? { service: object.involvedObject.name } : undefined;
    default:
      return undefined;
  }
}

/** The baseline controller: acknowledges each new Service generation in a ConfigMap, one patch per generation. */
function addEchoController(manager: Manager, services: SharedInformer<Service>, store: CountingStore): void {
  const acked = new Map<string, number>();
  manager
    .addController({
      name: 'bench-echo',
      workers: echoWorkers,
      reconcile: async (key) => {
        const service = services.get(key.namespace, key.name);
        const generation = service?.metadata.generation;
        if (!service || generation === undefined || acked.get(key.name) === generation) return;
        await store.patch(configMaps, key.namespace, `${ackPrefix}${key.name}`, { data: { generation: String(generation) } });
        acked.set(key.name, generation);
      },
    })
    .watch(services);
}

export const churnLatency: BenchCase = {
  name: 'churn-latency',
  timeoutMs: 30 * 60_000,
  run: async (context) => {
    const serviceCount = Math.max(1, Math.round(fullServices * context.scale));
    const durationMs = Math.max(5_000, fullDurationMs * context.scale);
    const session = await kubeBackend.session(context);
    const namespace = await session.namespace('churn');
    const berth = new LatencyProbe();
    const echo = new LatencyProbe();

    const plane = controlPlaneFor(context, session.controlPlaneStore, namespace.name, {
      configure: (manager, store) => {
        const services = manager.informerFor<Service>(serviceType, namespace.name);
        const tasks = manager.informerFor<Task>(taskType, namespace.name);
        // Registered before any controller starts, so it runs before their handlers enqueue the key.
        services.addEventHandler({
          onUpdate: (old, service) => {
            if (old.metadata.generation === service.metadata.generation) return;
            const at = performance.now();
            berth.delivered(service.metadata.name, service.metadata.generation!, at);
            echo.delivered(service.metadata.name, service.metadata.generation!, at);
          },
        });
        store.onWrite((write) => {
          if (write.type.plural === configMaps.plural && write.name.startsWith(ackPrefix)) {
            const acked = (write.patch as { data?: { generation?: string } } | undefined)?.data?.generation;
            echo.wrote(write.name.slice(ackPrefix.length), acked === undefined ? undefined : Number(acked), write.at);
            return;
          }
          const target = attribute(write, tasks);
          if (target) berth.wrote(target.service, target.generation, write.at);
        });
        addEchoController(manager, services, store);
      },
    });

    // Each service swings between 1 and 2 tasks: room for all of them at 2.
    await provisionInstances(session.client, plane, namespace.name, instancesFor(2 * serviceCount), context);
    log(`churn-latency: ${serviceCount} services of 1 task`);
    const names = Array.from({ length: serviceCount }, (_, i) => `svc-${i}`);
    const steady = new PredicateCount(plane.manager.informerFor<Service>(serviceType, namespace.name), isSteady);
    const running = new PredicateCount(plane.manager.informerFor<Task>(taskType, namespace.name), isRunning);
    context.defer(() => {
      steady.stop();
      running.stop();
    });
    await session.client.create(taskDefinitions, taskDefinitionManifest(namespace.name, familyName, { image: 'bench/app:1' }));
    await forEachConcurrently(names, 8, context.signal, async (name) => {
      await session.client.create(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: namespace.name, name: `${ackPrefix}${name}` } });
      await session.client.create(serviceType, serviceManifest(namespace.name, name, { cluster: clusterName, taskDefinition: familyName, desiredCount: 1 }));
    });
    await steady.reaches(serviceCount, context.signal);
    await running.reaches(serviceCount, context.signal);

    const changes = Math.round((durationMs / 1000) * changesPerSecond);
    log(`churn-latency: ${changes} changes at ${changesPerSecond}/s`);
    const desired = new Map(names.map((name) => [name, 1]));
    const started = performance.now();
    const issued: Promise<unknown>[] = [];
    for (let i = 0; i < changes; i++) {
      // Pacing the load, not waiting for anything: change i leaves at its slot of the schedule.
      const due = started + (i * 1000) / changesPerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      context.signal.throwIfAborted();
      const name = names[i % names.length];
      desired.set(name, 3 - desired.get(name)!);
      issued.push(session.client.patch(serviceType, namespace.name, name, { spec: { desiredCount: desired.get(name) } }));
    }
    const issuingMs = performance.now() - started;
    await Promise.all(issued);
    await Promise.all([berth.settled(answerGraceMs), echo.settled(answerGraceMs)]);

    const berthSummary = berth.summary();
    const echoSummary = echo.summary();
    return [
      {
        case: 'churn-latency',
        value: berthSummary.p99Ms,
        unit: 'ms',
        baseline: echoSummary.p99Ms,
        baselineIs: 'p99 of a trivial controller (one ConfigMap patch per new Service generation) on the same informer, runtime and run',
        target: { value: { op: '<=', limit: 100 } },
        details: {
          services: serviceCount,
          changes,
          issuedPerSecond: round(changes / (issuingMs / 1000)),
          berth: berthSummary,
          trivialController: echoSummary,
        },
      },
    ];
  },
};
