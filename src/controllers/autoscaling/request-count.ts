import type { Service } from '../../api';
import { parseQuantity } from '../../ecs/quantity';
import { StoreError } from '../../store/object-store';
import { formatLabelSelector } from '../../store/label-selector';
import type { ExternalMetricValue } from '../../store/kube/external-metrics';
import type { Datapoint } from './utilization';

/** Where external metrics come from: the API server's external.metrics.k8s.io (store/kube/external-metrics.ts). */
export interface ExternalMetrics {
  list(namespace: string, metric: string, labelSelector: string): Promise<ExternalMetricValue[]>;
}

type RequestCountMetric = NonNullable<NonNullable<Service['spec']['autoScaling']>['requestCountMetric']>;

/** The service's requests per minute, all targets together, and when they were measured; or why there is no value. */
export type RequestCountReading = { requestsPerMinute: number; sampledAt: number } | { missing: string };

/**
 * Reads the service's request count as the HPA reads an External metric: every series the selector matches,
 * added up (a service behind two ingress controllers counts the requests of both). No series at all is no
 * value, never 0: an adapter that lost its Prometheus must not read as a service nobody calls, which would
 * scale it in.
 */
export async function readRequestCount(source: ExternalMetrics | undefined, namespace: string, metric: RequestCountMetric): Promise<RequestCountReading> {
  const selector = formatLabelSelector(metric.selector);
  const named = `external metric ${metric.name}${selector ? ` {${selector}}` : ''}`;
  if (!source) return { missing: `${named}: this Berth has no external metrics API to read it from (berth local runs without Kubernetes)` };
  let items: ExternalMetricValue[];
  try {
    items = await source.list(namespace, metric.name, selector);
  } catch (error) {
    return { missing: `${named}: ${unreadable(error)}` };
  }
  if (items.length === 0) return { missing: `${named}: the external metrics API has no series of it for this selector` };
  let requestsPerMinute = 0;
  let sampledAt = 0;
  for (const item of items) {
    const at = Date.parse(item.timestamp ?? '');
    let value: number;
    try {
      value = parseQuantity(item.value ?? '');
    } catch {
      return { missing: `${named}: a series has the value "${item.value ?? ''}", not a quantity` };
    }
    if (!(at > 0)) return { missing: `${named}: a series has no timestamp` };
    requestsPerMinute += value;
    sampledAt = Math.max(sampledAt, at);
  }
  return { requestsPerMinute, sampledAt };
}

function unreadable(error: unknown): string {
  if (!(error instanceof StoreError)) return (error as Error).message;
  switch (error.reason) {
    case 'NotFound':
      return `not served (no APIService v1beta1.external.metrics.k8s.io, or its adapter does not know the metric): ${error.message}`;
    case 'Forbidden':
      return `the operator may not read it (it needs get on external.metrics.k8s.io): ${error.message}`;
    default:
      return error.message;
  }
}

/**
 * ALBRequestCountPerTarget from the service's requests: requests per minute over its RUNNING tasks, as the ALB
 * divides RequestCount by the targets of its target group. 1,200 requests a minute on 3 RUNNING tasks is 400 per
 * target; with target tracking at 300, 3 × 400 / 300 = 4 tasks, i.e. 1,200 / 300: target tracking on a count per
 * target sizes the service by the total, whatever it runs now.
 * With no RUNNING task the requests count as one target's (0 tasks reporting 1,200 a minute → 1,200), so a
 * service scaled in to 0 comes back when requests arrive; the ALB's metric has no datapoint then and ECS never
 * scales such a service out again.
 */
export function requestCountPerTarget(reading: RequestCountReading, runningTasks: number): Datapoint | undefined {
  if ('missing' in reading) return undefined;
  return { value: reading.requestsPerMinute / Math.max(1, runningTasks), tasks: runningTasks, sampledAt: reading.sampledAt };
}
