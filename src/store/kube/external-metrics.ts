import type { RestClient } from './rest-client';

/** One series of an external metric, as external.metrics.k8s.io/v1beta1 serves it (an ExternalMetricValue). */
export interface ExternalMetricValue {
  metricName?: string;
  metricLabels?: Record<string, string>;
  /** When the value was measured (RFC 3339). */
  timestamp?: string;
  /** A Kubernetes quantity: "1200", "1500m" (1.5), "2k". */
  value?: string;
}

interface ExternalMetricValueList {
  items?: ExternalMetricValue[];
}

/**
 * The external metrics API (external.metrics.k8s.io, the API the HPA's External metrics read, served by an
 * adapter such as prometheus-adapter or KEDA), read as the HPA reads it: every series of `metric` in
 * `namespace` whose labels match `labelSelector`. Errors are the RestClient's StoreErrors: NotFound when no
 * adapter is registered or it does not know the metric, Forbidden when RBAC does not let this user read it.
 */
export class KubeExternalMetrics {
  constructor(private readonly rest: RestClient) {}

  async list(namespace: string, metric: string, labelSelector: string): Promise<ExternalMetricValue[]> {
    const query = labelSelector === '' ? '' : `?labelSelector=${encodeURIComponent(labelSelector)}`;
    const path = `/apis/external.metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/${encodeURIComponent(metric)}${query}`;
    const list = await this.rest.request<ExternalMetricValueList>('GET', path);
    return list.items ?? [];
  }
}
