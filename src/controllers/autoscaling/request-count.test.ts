import { StoreError } from '../../store/object-store';
import type { ExternalMetricValue } from '../../store/kube/external-metrics';
import { readRequestCount, requestCountPerTarget, type ExternalMetrics } from './request-count';

/** An external metrics API serving fixed series, recording what it was asked. */
function source(items: ExternalMetricValue[] | Error): ExternalMetrics & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    list: (namespace, metric, selector) => {
      asked.push(`${namespace}/${metric}?${selector}`);
      return items instanceof Error ? Promise.reject(items) : Promise.resolve(items);
    },
  };
}

const metric = {
  name: 'requests_per_minute',
  selector: { matchLabels: { service: 'web' }, matchExpressions: [{ key: 'code', operator: 'NotIn' as const, values: ['5xx'] }] },
};
const at = (iso: string) => Date.parse(iso);

describe('readRequestCount', () => {
  test('adds up every series the selector matches, quantities included, and takes the newest timestamp', async () => {
    const api = source([
      { metricName: 'requests_per_minute', metricLabels: { ingress: 'a' }, timestamp: '2026-03-02T08:00:00Z', value: '1200' },
      { metricName: 'requests_per_minute', metricLabels: { ingress: 'b' }, timestamp: '2026-03-02T08:00:05Z', value: '1500m' },
      { metricName: 'requests_per_minute', metricLabels: { ingress: 'c' }, timestamp: '2026-03-02T08:00:01Z', value: '2k' },
    ]);
    expect(await readRequestCount(api, 'shop', metric)).toEqual({ requestsPerMinute: 3201.5, sampledAt: at('2026-03-02T08:00:05Z') });
    expect(api.asked).toEqual(['shop/requests_per_minute?service=web,code notin (5xx)']);
  });

  test('no series is no value, never 0, and says so', async () => {
    expect(await readRequestCount(source([]), 'shop', metric)).toEqual({
      missing: 'external metric requests_per_minute {service=web,code notin (5xx)}: the external metrics API has no series of it for this selector',
    });
  });

  test('an API that is not there, a refusal, a value that is no quantity: each named', async () => {
    expect(await readRequestCount(source(new StoreError('NotFound', 'the server could not find the requested resource')), 'shop', { name: 'rpm' })).toEqual({
      missing:
        'external metric rpm: not served (no APIService v1beta1.external.metrics.k8s.io, or its adapter does not know the metric): the server could not find the requested resource',
    });
    const forbidden = await readRequestCount(source(new StoreError('Forbidden', 'rpm.external.metrics.k8s.io is forbidden')), 'shop', { name: 'rpm' });
    expect(forbidden).toEqual({ missing: expect.stringContaining('the operator may not read it (it needs get on external.metrics.k8s.io)') as string });
    expect(await readRequestCount(source([{ timestamp: '2026-03-02T08:00:00Z', value: 'lots' }]), 'shop', { name: 'rpm' })).toEqual({
      missing: 'external metric rpm: a series has the value "lots", not a quantity',
    });
    expect(await readRequestCount(undefined, 'shop', { name: 'rpm' })).toEqual({
      missing: 'external metric rpm: this Berth has no external metrics API to read it from (berth local runs without Kubernetes)',
    });
  });
});

describe('requestCountPerTarget', () => {
  const reading = { requestsPerMinute: 1200, sampledAt: 5 };

  test('divides the requests by the RUNNING tasks: 1,200 a minute on 3 tasks is 400 per target', () => {
    expect(requestCountPerTarget(reading, 3)).toEqual({ value: 400, tasks: 3, sampledAt: 5 });
  });

  test('with no RUNNING task the requests are one target’s, so a service at 0 can come back', () => {
    expect(requestCountPerTarget(reading, 0)).toEqual({ value: 1200, tasks: 0, sampledAt: 5 });
  });

  test('no reading is no datapoint', () => {
    expect(requestCountPerTarget({ missing: 'gone' }, 3)).toBeUndefined();
  });
});
