import type { PodObject } from '../../../ecs/pods';
import { parseGoDuration, podMetricsUsage, staleAfterMs, type PodMetrics } from './pod-metrics';
import { containerNamesAnnotation } from './pod-spec';

const at = Date.parse('2026-12-04T13:00:00Z');

/** A Pod of two containers: `web`, and the ECS container `log_router`, which the Pod calls `log-router`. */
function pod(running: string[] = ['web', 'log-router']): PodObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', annotations: { [containerNamesAnnotation]: JSON.stringify({ 'log-router': 'log_router' }) } },
    spec: { containers: [{ name: 'web' }, { name: 'log-router' }] },
    status: {
      phase: 'Running',
      containerStatuses: ['web', 'log-router'].map((name) => ({
        name,
        image: 'busybox',
        imageID: '',
        ready: true,
        restartCount: 0,
        state: running.includes(name) ? { running: {} } : { terminated: { exitCode: 0 } },
      })),
    },
  };
}

function metrics(containers: PodMetrics['containers'], timestamp = '2026-12-04T13:00:00Z', window = '10.3s'): PodMetrics {
  return { apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name: 'web-1', namespace: 'default' }, timestamp, window, containers };
}

test('the sum over the containers: "250m" + "1234567n" cores over the window, "64Mi" + "1000Ki" bytes, at the window end', () => {
  const usage = podMetricsUsage(
    metrics([
      { name: 'web', usage: { cpu: '250m', memory: '64Mi' } },
      { name: 'log-router', usage: { cpu: '1234567n', memory: '1000Ki' } },
    ]),
    pod(),
    at + 5000,
  );
  expect(usage).toEqual({ cpuNanocores: 250_000_000 + 1_234_567, windowMs: 10_300, memoryBytes: 64 * 2 ** 20 + 1000 * 1024, readAt: at });
});

test('other quantity forms: whole cores, micro, exponents, plain bytes', () => {
  const usage = podMetricsUsage(
    metrics([
      { name: 'web', usage: { cpu: '1', memory: '1e6' } },
      { name: 'log-router', usage: { cpu: '500u', memory: '4096' } },
    ]),
    pod(),
    at,
  );
  expect(usage).toMatchObject({ cpuNanocores: 1_000_500_000, memoryBytes: 1_004_096 });
});

test('no PodMetrics (no metrics API, or the Pod not scraped yet): undefined', () => {
  expect(podMetricsUsage(undefined, pod(), at)).toBeUndefined();
});

test('a running container missing from the metrics (its first sample still to come): undefined, never a sum that reads low', () => {
  expect(podMetricsUsage(metrics([{ name: 'web', usage: { cpu: '250m', memory: '64Mi' } }]), pod(), at)).toBeUndefined();
  expect(podMetricsUsage(metrics([]), pod(), at)).toBeUndefined();
});

test('a container that has exited need not be there; one the Pod does not have is left out', () => {
  const usage = podMetricsUsage(
    metrics([
      { name: 'web', usage: { cpu: '5m', memory: '10Mi' } },
      { name: 'istio-proxy', usage: { cpu: '900m', memory: '1Gi' } },
    ]),
    pod(['web']),
    at,
  );
  expect(usage).toMatchObject({ cpuNanocores: 5_000_000, memoryBytes: 10 * 2 ** 20 });
});

test('stale metrics (older than staleAfterMs), or without a timestamp or window: undefined', () => {
  const fresh = metrics([
    { name: 'web', usage: { cpu: '5m', memory: '10Mi' } },
    { name: 'log-router', usage: { cpu: '5m', memory: '10Mi' } },
  ]);
  expect(podMetricsUsage(fresh, pod(), at + staleAfterMs)).toBeDefined();
  expect(podMetricsUsage(fresh, pod(), at + staleAfterMs + 1)).toBeUndefined();
  expect(podMetricsUsage({ ...fresh, timestamp: undefined }, pod(), at)).toBeUndefined();
  expect(podMetricsUsage({ ...fresh, window: undefined }, pod(), at)).toBeUndefined();
  expect(podMetricsUsage({ ...fresh, window: '0s' }, pod(), at)).toBeUndefined();
});

test('a quantity that is missing or none: undefined', () => {
  const bad = (cpu: string | undefined) =>
    metrics([
      { name: 'web', usage: { ...(cpu !== undefined && { cpu }), memory: '10Mi' } },
      { name: 'log-router', usage: { cpu: '5m', memory: '10Mi' } },
    ]);
  expect(podMetricsUsage(bad(undefined), pod(), at)).toBeUndefined();
  expect(podMetricsUsage(bad('5 cores'), pod(), at)).toBeUndefined();
});

test.each([
  ['10.3s', 10_300],
  ['20s', 20_000],
  ['1m0.5s', 60_500],
  ['500ms', 500],
  ['1h2m3s', 3_723_000],
  ['1500us', 1.5],
  ['0', 0],
])('Go duration %s is %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

test.each(['', '10', 's', '10x', '10s ', '-1s'])('%j is no Go duration', (text) => expect(parseGoDuration(text)).toBeUndefined());
