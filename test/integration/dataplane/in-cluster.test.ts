// The in-cluster install, for real: the operator image built from the Dockerfile on this machine
// (test/env/operator-image.sh: a local base, no registry) runs from deploy/'s manifests as two Pods with
// leader election on the test node, and the example web service runs as Pods on that node.
//
// The test API server is shared with every other suite, so the install is scoped by a kustomize overlay
// over deploy/'s own files: a namespace of its own, a name prefix on the cluster-wide objects (with the
// ClusterRole's webhook resourceName and the operator's flags to match), the operator watching one
// namespace of tasks, and the webhook asked only about that namespace. The test API server runs no
// kube-scheduler, so the overlay binds the operator Pods to the node (nodeName) as the scheduler would.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Service, Task } from '../../../src/api';
import { kubectl, kubectlOk, run, testNode } from '../../env/env';
import { eventually } from '../../support/berth-harness';
import { httpGet } from '../../support/http';

jest.setTimeout(900_000);

const repo = path.resolve(__dirname, '..', '..', '..');
const id = Date.now().toString(36).slice(-6);
const installNs = `berth-it-${id}`;
const workNs = `berth-work-${id}`;
const prefix = `it-${id}-`;
const operatorSa = `system:serviceaccount:${installNs}:${prefix}berth-operator`;
let overlay: string;

function writeOverlay(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-overlay-'));
  for (const file of ['rbac.yaml', 'operator.yaml', 'webhook.yaml']) copyFileSync(path.join(repo, 'deploy', file), path.join(dir, file));
  // The index of the ClusterRole rule that names the webhook configuration, to prefix its resourceName too.
  const rules = readFileSync(path.join(repo, 'deploy', 'rbac.yaml'), 'utf8')
    .split(/^---$/m)
    .find((d) => /kind: ClusterRole\n/.test(d))!;
  const webhookRule = rules
    .split(/^ {2}- apiGroups:/m)
    .slice(1)
    .findIndex((rule) => rule.includes('validatingwebhookconfigurations'));
  const node = testNode().name;
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${installNs}
namePrefix: ${prefix}
resources: [rbac.yaml, operator.yaml, webhook.yaml]
patches:
  - target: { kind: Deployment, name: berth-operator }
    patch: |
      - op: replace
        path: /spec/template/spec/containers/0/args
        value: [operator, --leader-elect, --webhook-bind-address=:9443, --namespace=${workNs},
                --webhook-configuration=${prefix}berth-webhook, --webhook-service=${prefix}berth-webhook,
                --leader-elect-lease-duration=8s, --leader-elect-renew-deadline=6s, --leader-elect-retry-period=1s]
      - op: add
        path: /spec/template/spec/nodeName
        value: ${node}
  - target: { kind: ClusterRole, name: berth-operator }
    patch: |
      - op: replace
        path: /rules/${webhookRule}/resourceNames/0
        value: ${prefix}berth-webhook
  - target: { kind: ValidatingWebhookConfiguration, name: berth-webhook }
    patch: |
      - op: add
        path: /webhooks/0/namespaceSelector
        value: { matchLabels: { kubernetes.io/metadata.name: ${workNs} } }
`,
  );
  return dir;
}

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  nodeGroups:
    - name: general
      type: selfManaged
      nodes:
        selector: { matchLabels: { kubernetes.io/hostname: ${'NODE'} } }
`;

const operatorPods = async () =>
  JSON.parse(await kubectlOk(['get', 'pods', '-n', installNs, '-l', 'app.kubernetes.io/component=operator', '-o', 'json'])) as { items: V1Pod[] };
const webService = async () => JSON.parse(await kubectlOk(['get', 'services.berth.dev', 'web', '-n', workNs, '-o', 'json'])) as Service;
const webTasks = async () =>
  (JSON.parse(await kubectlOk(['get', 'tasks.berth.dev', '-n', workNs, '-o', 'json'])) as { items: Task[] }).items.filter(
    (t) => t.metadata.labels?.['berth.dev/service'] === 'web',
  );
const webPods = async () =>
  (JSON.parse(await kubectlOk(['get', 'pods', '-n', workNs, '-l', 'berth.dev/service=web', '-o', 'json'])) as { items: V1Pod[] }).items;
const leaseHolder = async () => (await kubectlOk(['get', 'lease', 'berth-operator', '-n', installNs, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
const report = async () =>
  [
    (await kubectl(['get', 'pods,tasks.berth.dev,services.berth.dev', '-n', workNs, '-o', 'wide'])).stdout,
    (await kubectl(['get', 'pods', '-n', installNs, '-o', 'wide'])).stdout,
    (await kubectl(['logs', '-n', installNs, '-l', 'app.kubernetes.io/component=operator', '--tail=30', '--prefix'])).stdout,
  ].join('\n');

beforeAll(async () => {
  const built = await run('bash', [path.join(repo, 'test', 'env', 'operator-image.sh')], { timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error(`operator-image.sh exited ${built.code}: ${built.stderr}`);
  await kubectlOk(['create', 'namespace', installNs]);
  await kubectlOk(['create', 'namespace', workNs]);
  overlay = writeOverlay();
  await kubectlOk(['apply', '--server-side', '-k', overlay]);
  await kubectlOk(['rollout', 'status', `deployment/${prefix}berth-operator`, '-n', installNs, '--timeout=300s']);
});

afterAll(async () => {
  if (overlay) {
    await kubectl(['delete', '-k', overlay, '--wait=false']);
    rmSync(overlay, { recursive: true, force: true });
  }
  // No operator left to release Berth's finalizers: let the namespaces go without them.
  const objects = await kubectl(['get', 'berth', '-n', workNs, '-o', 'name']);
  for (const name of objects.stdout.split('\n').filter(Boolean)) {
    await kubectl(['patch', name, '-n', workNs, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(['delete', 'namespace', workNs, installNs, '--wait=false']);
});

test('the operator runs as two non-root Pods, one of them leading', async () => {
  const { items } = await operatorPods();
  expect(items).toHaveLength(2);
  expect(items.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
  const holder = await eventually(async () => (await leaseHolder()) || undefined, 'a leader');
  expect(items.map((p) => p.metadata!.name)).toContain(holder.split('_')[0]);
  const uid = await kubectlOk(['exec', '-n', installNs, items[0].metadata!.name!, '--', 'id', '-u']);
  expect(uid.trim()).toBe('65532');
});

test("kubectl auth can-i --list shows the operator's ServiceAccount only the verbs it uses", async () => {
  const listed = await kubectlOk(['auth', 'can-i', '--list', `--as=${operatorSa}`, '-n', workNs]);
  const rows = new Map(
    listed
      .split('\n')
      .slice(1)
      .filter((line) => line.trim() && !line.trimStart().startsWith('['))
      .map((line) => {
        const [resource, ...rest] = line.trim().split(/\s+/);
        return [resource, rest.join(' ')] as const;
      }),
  );
  // Never a wildcard on a resource but external metrics, whose names are the users' (as the HPA controller's
  // role reads them), and those only listed; the data plane's verbs exactly.
  const externalMetrics = '*.external.metrics.k8s.io';
  for (const [resource, rest] of rows) if (resource !== externalMetrics) expect(`${resource} ${rest}`).not.toMatch(/^\*|\[\*\]/);
  expect(rows.get(externalMetrics)).toMatch(/^\[\]\s+\[\]\s+\[list\]$/);
  expect(rows.get('nodes')).toMatch(/\[get list watch patch\]$/);
  expect(rows.get('pods')).toMatch(/\[get list watch create delete\]$/);
  expect(rows.get('pods.metrics.k8s.io')).toMatch(/\[get list\]$/);
  expect(rows.get('machinedeployments.cluster.x-k8s.io/scale')).toMatch(/\[get patch\]$/);
  expect(rows.has('deployments.apps')).toBe(false);
  expect(rows.has('secrets')).toBe(true);
  expect(rows.get('secrets')).toMatch(/\[get list watch\]$/);
});

test('the examples run as Pods on the node; a dynamic host port answers; a rolling update keeps its bounds through a leader killed mid-rollout', async () => {
  const node = testNode();
  await kubectlOk(['apply', '-n', workNs, '-f', '-'], cluster.replace('NODE', node.name));
  // The web service and the node-exporter DAEMON; the Fargate api example runs on kwok (fargate-pods.test.ts),
  // as this environment has no scheduler to place unbound Pods.
  const examples = ['10-taskdefinition-web.yaml', '20-service-web.yaml', '30-taskdefinition-node-exporter.yaml', '40-service-node-exporter.yaml'].flatMap(
    (file) => ['-f', path.join(repo, 'examples', file)],
  );
  // The webhook answers once kube-proxy has programmed its Service (the Pods are Ready before that).
  await eventually(
    async () => ((await kubectl(['apply', '--dry-run=server', '-n', workNs, ...examples])).code === 0 ? true : undefined),
    'the webhook to answer through its Service',
    120_000,
    500,
    async () => (await kubectl(['apply', '--dry-run=server', '-n', workNs, ...examples])).stderr,
  );
  await kubectlOk(['apply', '-n', workNs, ...examples]);
  const healthy = async () => (await webTasks()).filter((t) => t.status?.lastStatus === 'RUNNING' && t.status.healthStatus === 'HEALTHY');
  const first = await eventually(
    async () => {
      const now = await healthy();
      return now.length === 3 ? now : undefined;
    },
    'three healthy web tasks',
    300_000,
    500,
    report,
  );
  const pods = await webPods();
  expect(pods.map((p) => p.spec?.nodeName)).toEqual([node.name, node.name, node.name]);
  const port = first[0].status?.containers?.find((c) => c.name === 'web')?.networkBindings?.[0]?.hostPort;
  expect(port).toBeGreaterThanOrEqual(49153);
  expect(await httpGet(`http://${node.ip}:${port}/`)).toContain('hello from berth');
  // The DAEMON runs one task on the node, its metrics on a host port of its own.
  const exporter = await eventually(
    async () => {
      const all = (
        JSON.parse(await kubectlOk(['get', 'tasks.berth.dev', '-n', workNs, '-l', 'berth.dev/service=node-exporter', '-o', 'json'])) as { items: Task[] }
      ).items;
      return all.length === 1 && all[0].status?.lastStatus === 'RUNNING' ? all[0] : undefined;
    },
    'the node-exporter DAEMON task RUNNING',
    120_000,
    500,
    report,
  );
  const metricsPort = exporter.status?.containers?.[0].networkBindings?.[0]?.hostPort;
  expect(await httpGet(`http://${node.ip}:${metricsPort}/metrics`)).toContain('node_up 1');

  // A new revision rolls out; the Pods are sampled at every step, and the leader is killed once it is under way.
  const samples: { ready: number; live: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const current = await webPods().catch(() => undefined);
      if (current) {
        const live = current.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
        // Healthy as ECS counts a task: its essential container's health check passes (the web container's
        // readiness). The Pod's own Ready condition also waits for the non-essential log shipper, which ECS
        // leaves out of a task's health.
        const webReady = (p: V1Pod) =>
          (p.status?.initContainerStatuses ?? []).concat(p.status?.containerStatuses ?? []).some((c) => c.name === 'web' && c.ready);
        const ready = live.filter(webReady);
        samples.push({ ready: ready.length, live: live.length });
      }
    }
  })();
  const revised = readFileSync(path.join(repo, 'examples', '10-taskdefinition-web.yaml'), 'utf8').replace('value: hello', 'value: hello-again');
  await kubectlOk(['apply', '-n', workNs, '-f', '-'], revised);
  await eventually(async () => ((await webTasks()).some((t) => t.spec.taskDefinition === 'web:2') ? true : undefined), 'a task of web:2', 120_000, 250, report);
  const leader = (await leaseHolder()).split('_')[0];
  await kubectlOk(['delete', 'pod', leader, '-n', installNs, '--grace-period=1', '--wait=false']);
  await eventually(
    async () => {
      const service = await webService();
      const primary = service.status?.deployments?.find((d) => d.status === 'PRIMARY');
      const tasks = await healthy();
      return primary?.taskDefinition === 'web:2' &&
        primary.rolloutState === 'COMPLETED' &&
        tasks.length === 3 &&
        tasks.every((t) => t.spec.taskDefinition === 'web:2')
        ? true
        : undefined;
    },
    'the rollout to web:2 completed under a new leader',
    600_000,
    500,
    report,
  );
  sampling = false;
  await sampler;
  expect((await leaseHolder()).split('_')[0]).not.toBe(leader);
  // minimumHealthyPercent 50 of 3: at least 2 Pods with a healthy web container; maximumPercent 200: at most 6 Pods.
  expect(samples.length).toBeGreaterThan(10);
  expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(2);
  expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(6);
});
