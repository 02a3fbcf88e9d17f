// Proves the test environment's external metrics API: a counter this suite serves is scraped by the environment's
// Prometheus (a file_sd target it writes) and comes back through the API server's aggregator and prometheus-adapter
// as external.metrics.k8s.io's berth_test_requests_per_minute, as Berth's auto scaling reads it.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseQuantity } from '../../src/ecs/quantity';
import { addScrapeTarget, kubectl, testPrometheus, type ScrapeTarget } from '../env/env';
import { eventually } from '../support/berth-harness';

interface ExternalMetricValueList {
  kind: string;
  items: { metricName: string; metricLabels?: Record<string, string>; value: string }[];
}

const metricPath = (selector: string) =>
  `/apis/external.metrics.k8s.io/v1beta1/namespaces/default/berth_test_requests_per_minute?labelSelector=${encodeURIComponent(selector)}`;

/** The external metric for `selector`, or undefined while the API answers otherwise (the adapter has not listed the series yet: 404). */
async function externalMetric(selector: string): Promise<ExternalMetricValueList | undefined> {
  const result = await kubectl(['get', '--raw', metricPath(selector)]);
  return result.code === 0 ? (JSON.parse(result.stdout) as ExternalMetricValueList) : undefined;
}

let requests = 0;
let server: http.Server;
let target: ScrapeTarget | undefined;
let scrapes = 0;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrapes++;
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    response.end(
      `# HELP berth_test_requests_total Requests served.\n# TYPE berth_test_requests_total counter\nberth_test_requests_total{service="web"} ${requests}\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  target = addScrapeTarget(`env-external-metrics-${process.pid}`, `127.0.0.1:${port}`);
});

afterAll(async () => {
  target?.remove();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the APIService v1beta1.external.metrics.k8s.io is Available', async () => {
  const available = await kubectl([
    'get',
    'apiservice',
    'v1beta1.external.metrics.k8s.io',
    '-o',
    'jsonpath={.status.conditions[?(@.type=="Available")].status}',
  ]);
  expect(available.stdout).toBe('True');
});

test('a growing counter scraped by the environment Prometheus is served as requests per minute', async () => {
  const prometheus = testPrometheus();
  // Every look adds requests: the counter grows while Prometheus scrapes it every second.
  const list = await eventually(
    async () => {
      requests += 25;
      const metric = await externalMetric('service=web');
      return metric && metric.items.length === 1 && parseQuantity(metric.items[0].value) > 0 && metric;
    },
    'berth_test_requests_per_minute{service=web} > 0',
    60_000,
    250,
    async () => {
      const last = await kubectl(['get', '--raw', metricPath('service=web')]);
      const up = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('up{job="berth-test"}')}`)
        .then((response) => response.text())
        .catch((error: Error) => error.message);
      return `scrapes of the test server: ${scrapes}; last answer: ${(last.stderr || last.stdout).trim()}; Prometheus up: ${up}`;
    },
  );
  expect(list.kind).toBe('ExternalMetricValueList');
  expect(list.items[0].metricName).toBe('berth_test_requests_per_minute');
  expect(scrapes).toBeGreaterThan(1);
});

test('a selector that matches no series gives an empty list', async () => {
  const list = await externalMetric('service=nothing-here');
  expect(list).toMatchObject({ kind: 'ExternalMetricValueList', items: [] });
});
