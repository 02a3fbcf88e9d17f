/**
 * A Pod task's usage from the resource metrics API (`metrics.k8s.io/v1beta1` PodMetrics, served by
 * metrics-server: what the HorizontalPodAutoscaler and `kubectl top pod` read). Reading it takes
 * `get pods.metrics.k8s.io` and nothing on the Node (never nodes/proxy, which would be the kubelet's whole API).
 *
 * A PodMetrics gives, per container, CPU as a rate (cores, e.g. "12345678n" nanocores, "5m" millicores)
 * averaged over `window` ending at `timestamp`, and memory as the working set (usage without the inactive file
 * pages: what Docker's MEM USAGE shows too, see docker/usage.ts) as a quantity ("64Mi", "1000Ki"):
 *   { "timestamp": "2026-12-04T13:00:00Z", "window": "10.3s",
 *     "containers": [{ "name": "web", "usage": { "cpu": "250m", "memory": "64Mi" } },
 *                    { "name": "log-router", "usage": { "cpu": "1234567n", "memory": "1000Ki" } }] }
 *   → 0.251234567 cores over the 10.3 s before 13:00:00, 67,108,864 + 1,024,000 bytes.
 * CPU stays a rate: it becomes a RateUsage (see TaskUsage), not a made-up cumulative counter.
 */
import type { KubeObject, ResourceType } from '../../../store/object-store';
import type { PodObject } from '../../../ecs/pods';
import { parseQuantity } from '../../../ecs/quantity';
import type { RateUsage } from '../../task-runtime';
import { containerNamesAnnotation } from './pod-spec';

export const podMetricsType: ResourceType = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'PodMetrics',
  plural: 'pods',
  namespaced: true,
  statusSubresource: false,
};

export interface PodMetrics extends KubeObject {
  /** The end of the window the rates were measured over (RFC 3339). */
  timestamp?: string;
  /** A Go duration ("10.3s", "1m0s", "500ms"). */
  window?: string;
  containers?: { name: string; usage?: { cpu?: string; memory?: string } }[];
}

/**
 * A sample older than this is no reading of now: metrics-server scrapes every --metric-resolution (10 s to
 * 60 s in practice) and keeps a Pod's last sample only while the kubelet still reports it, so two minutes
 * means the pipeline is stuck (the controller would drop such a report after three periods anyway).
 */
export const staleAfterMs = 120_000;

/**
 * The task's usage from its Pod's metrics, or undefined when they cannot stand for the task now:
 *  - no metrics (not scraped yet: a Pod is in metrics-server only after two kubelet samples of it), or no
 *    parsable timestamp and window;
 *  - stale: measured more than `staleAfterMs` before `now`;
 *  - a container's cpu or memory missing or not a quantity;
 *  - incomplete: a container the Pod's status shows running has no entry (its first sample is still to
 *    come). A sum without it would read low, and low load is what scales in.
 * Entries are matched to the Pod's containers by name (Pod name → ECS name through the container-names
 * annotation, see pod-spec podName); an entry for a container the Pod does not have is left out.
 */
export function podMetricsUsage(metrics: PodMetrics | undefined, pod: PodObject, now: number): RateUsage | undefined {
  if (!metrics) return undefined;
  const readAt = Date.parse(metrics.timestamp ?? '');
  const windowMs = parseGoDuration(metrics.window ?? '');
  if (!(readAt > 0) || windowMs === undefined || windowMs <= 0) return undefined;
  if (now - readAt > staleAfterMs) return undefined;
  const ecsNames = ecsContainerNames(pod);
  const byName = new Map<string, { cpuNanocores: number; memoryBytes: number }>();
  for (const container of metrics.containers ?? []) {
    const ecsName = ecsNames.get(container.name);
    if (ecsName === undefined) continue;
    const cores = quantity(container.usage?.cpu);
    const bytes = quantity(container.usage?.memory);
    if (cores === undefined || bytes === undefined) return undefined;
    byName.set(ecsName, { cpuNanocores: Math.round(cores * 1e9), memoryBytes: Math.round(bytes) });
  }
  if (byName.size === 0) return undefined;
  for (const running of runningContainers(pod)) if (!byName.has(ecsNames.get(running) ?? running)) return undefined;
  const readings = [...byName.values()];
  return {
    cpuNanocores: readings.reduce((total, r) => total + r.cpuNanocores, 0),
    windowMs,
    memoryBytes: readings.reduce((total, r) => total + r.memoryBytes, 0),
    readAt,
  };
}

/** Pod container name → ECS container name, for every container of the Pod (init containers, native sidecars included). */
function ecsContainerNames(pod: PodObject): Map<string, string> {
  const renamed = JSON.parse(pod.metadata.annotations?.[containerNamesAnnotation] ?? '{}') as Record<string, string>;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return new Map(all.map((c) => [c.name, renamed[c.name] ?? c.name]));
}

/** The Pod's containers that its status shows running now (a native sidecar is an init container that runs). */
function runningContainers(pod: PodObject): string[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.filter((s) => s.state?.running !== undefined).map((s) => s.name);
}

/** A quantity's value; undefined when missing or not a quantity (a reading that cannot be summed is no reading). */
function quantity(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseQuantity(value);
  } catch {
    return undefined;
  }
}

const goDurationUnits: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, μs: 1e-3, ns: 1e-6 };

/** A Go duration in milliseconds ("10.3s" → 10300, "1m0.5s" → 60500, "500ms" → 500); undefined when it is none. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/gy;
  let total = 0;
  let end = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * goDurationUnits[match[2]];
    end = part.lastIndex;
  }
  return end > 0 && end === text.length ? total : undefined;
}
