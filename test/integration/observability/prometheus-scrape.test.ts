// A real Prometheus (Debian's) scrapes a running `berth operator` (the built CLI, leader-elected) through a
// rollout and a scale-out, and then every query of deploy/grafana-dashboard.json answers with data: what a
// platform team sees on the dashboard the day it installs Berth is there, not an empty panel.
//
// What happens, on simulated instances (no containers, so only the operator's behaviour is measured):
//   - a Cluster with a managed node group of 1 instance of 3 task slots (max 2, managed scaling at 100 %) and a Service of 1
//     task whose autoScaling has a scheduled action at(now + 20 s UTC) setting minCapacity 4: Berth scales the
//     service out (an auto scaling change), the tasks that do not fit wait (placement failures), managed
//     scaling adds the second instance (capacity provider sizes), and the service reaches 4 RUNNING (launch
//     durations);
//   - the task definition changes: a rollout to revision 2 that completes within the 6 slots (ECS's default
//     100 / 200 %: new tasks start in the 2 free slots and wait for the rest, old ones stop as new ones are up),
//     giving rollout durations and the old tasks' stops by ServiceSchedulerInitiated.
// Prometheus scrapes every second (job berth-operator-metrics, as deploy/servicemonitor.yaml names it); the
// dashboard's $controller variable is read as every controller. A query answers with data when it returns at
// least one series.
// Bounded: about 1.5 minutes. Prometheus and the operator are this suite's own processes, ended by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { kubectlOk, testEnv } from '../../env/env';
import { startFaultEnv, steadyOn, type FaultEnv } from '../faults/fault-env';
import { projectDir, waitFor, type CliProcess } from '../process/cli-process';

const prometheusBin = '/usr/bin/prometheus';
const dashboard = JSON.parse(readFileSync(path.join(projectDir, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

let env: FaultEnv;
let operator: CliProcess;
let prometheus: ChildProcess;
let prometheusUrl: string;
let dataDir: string;
let prometheusLog = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface QueryAnswer {
  status: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  error?: string;
}

async function query(expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as QueryAnswer;
}

const utcAt = (ms: number) => new Date(ms).toISOString().slice(0, 19);

const manifests = (scaleOutAt: number) => `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: simulated
      instanceType: { cpu: 1024, memory: 768 }
      scaling: { minSize: 1, maxSize: 2, desiredSize: 1 }
      managedScaling: { targetCapacity: 100, instanceWarmupPeriod: 0, scaleInCooldownSeconds: 600 }
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  networkMode: bridge
  containerDefinitions:
    - name: web
      image: web:simulated
      memory: 256
      environment: [{ name: VERSION, value: '1' }]
---
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: 1
  autoScaling:
    minCapacity: 1
    maxCapacity: 4
    scheduledActions:
      - name: scale-out
        schedule: at(${utcAt(scaleOutAt)})
        minCapacity: 4
`;

beforeAll(async () => {
  env = await startFaultEnv('prometheus-scrape');
  const [metricsPort, prometheusPort] = [await freePort(), await freePort()];
  operator = env.startOperator({ leaderElect: true, metricsBindAddress: `127.0.0.1:${metricsPort}` });
  dataDir = mkdtempSync(path.join(tmpdir(), 'berth-prometheus-'));
  writeFileSync(
    path.join(dataDir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: berth-operator-metrics
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]
`,
  );
  prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  prometheus = spawn(
    prometheusBin,
    [
      `--config.file=${path.join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr!.setEncoding('utf8').on('data', (chunk: string) => (prometheusLog = (prometheusLog + chunk).slice(-20_000)));
  await waitFor(
    async () => (await query('up{job="berth-operator-metrics"} == 1').catch(() => undefined))?.data?.result.length === 1,
    'Prometheus to scrape the operator',
    60_000,
    () => `${operator.tail(10)}\n--- prometheus ---\n${prometheusLog.slice(-2000)}`,
  );
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests(Date.now() + 20_000), testEnv());
}, 120_000);

afterAll(async () => {
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus.once('exit', resolve));
    process.kill(prometheus.pid, 'SIGTERM');
    await exited;
  }
  await env?.teardown();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('the scheduled action scales the service out to 4, a second instance comes, then a rollout to web:2 completes', async () => {
  await waitFor(
    async () => steadyOn(await env.service('web'), 'web:1', 4),
    'the service steady on web:1 with 4 tasks',
    90_000,
    () => operator.tail(15),
  );
  await env.setEnvironment('web', '2');
  await waitFor(
    async () => steadyOn(await env.service('web'), 'web:2', 4),
    'the rollout to web:2',
    90_000,
    () => operator.tail(15),
  );
});

test('every dashboard panel query answers with data', async () => {
  const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, expr: target.expr.replaceAll('$controller', '.*') })));
  // The last changes are a few scrapes old at most: wait until the slowest panels (rates over the rollout) see them.
  const empty = await waitFor(
    async () => {
      const answers = await Promise.all(exprs.map(async (e) => ({ ...e, answer: await query(e.expr) })));
      const failing = answers.filter((a) => a.answer.status !== 'success' || (a.answer.data?.result.length ?? 0) === 0);
      return failing.length === 0 ? [] : undefined;
    },
    'every panel to have data',
    60_000,
    async () => {
      const answers = await Promise.all(exprs.map(async (e) => ({ ...e, answer: await query(e.expr) })));
      return answers
        .filter((a) => a.answer.status !== 'success' || (a.answer.data?.result.length ?? 0) === 0)
        .map((a) => `${a.panel}: ${a.expr} → ${a.answer.error ?? 'no series'}`)
        .join('\n');
    },
    1000,
  );
  expect(empty).toEqual([]);
  const decisions = await query('sum by (direction) (berth_autoscaling_decisions_total{job="berth-operator-metrics"})');
  expect(decisions.data?.result.map((r) => [r.metric.direction, r.value[1]]).sort()).toEqual([
    ['in', '0'],
    ['out', '1'],
  ]);
  const stops = await query('sum by (stop_code) (berth_task_stops_total{job="berth-operator-metrics"})');
  expect(stops.data?.result.map((r) => [r.metric.stop_code, r.value[1]])).toEqual([['ServiceSchedulerInitiated', '4']]);
});
