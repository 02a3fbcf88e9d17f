// deploy/ is checked by the tools that will consume it: the real API server (server-side dry run, pod
// security), kustomize (the kubectl build), promtool (rule syntax and alert unit tests) and a parse of
// the Grafana dashboard.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dump, load, loadAll } from 'js-yaml';
import { kubectl, kubectlOk, run } from '../env/env';

const projectDir = path.resolve(__dirname, '..', '..');
const deployDir = path.join(projectDir, 'deploy');
const promtool = '/usr/bin/promtool';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

interface ContainerManifest {
  args: string[];
  securityContext: Record<string, unknown>;
}

interface DeploymentSpec {
  replicas: number;
  template: { spec: { containers: ContainerManifest[]; securityContext: Record<string, unknown> } };
}

interface RuleGroups {
  groups: { rules: { alert: string; annotations: Record<string, string> }[] }[];
}

interface Dashboard {
  panels: { id: number; targets: { expr: string }[] }[];
}

const yamlFiles = readdirSync(deployDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests = (file: string) => loadAll(readFileSync(path.join(deployDir, file), 'utf8')) as Manifest[];

describe('deploy/ manifests', () => {
  test.each(yamlFiles)('%s holds well-formed Kubernetes objects', (file) => {
    const objects = manifests(file);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      expect(object.apiVersion).toMatch(/^([a-z0-9.-]+\/)?v\d/);
      expect(object.kind).toMatch(/^[A-Z]/);
      expect(object.metadata.name).toMatch(/^[a-z0-9.-]+$/);
    }
  });

  test('the API server accepts namespace, RBAC and the operator Deployment, with no pod-security warning', async () => {
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', path.join(deployDir, 'namespace.yaml')]);
    const result = await kubectl([
      'apply',
      '--dry-run=server',
      '--server-side',
      '--field-manager=berth-tests',
      '-f',
      path.join(deployDir, 'rbac.yaml'),
      '-f',
      path.join(deployDir, 'operator.yaml'),
      '-f',
      path.join(deployDir, 'webhook.yaml'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('deployment.apps/berth-operator serverside-applied (server dry run)');
    expect(result.stdout).toContain('validatingwebhookconfiguration.admissionregistration.k8s.io/berth-webhook serverside-applied (server dry run)');
  });

  test('the operator runs as the Dockerfile user, non-root, read-only, without capabilities', () => {
    const deployment = manifests('operator.yaml').find((o) => o.kind === 'Deployment')!;
    const spec = deployment.spec as DeploymentSpec;
    const pod = spec.template.spec;
    const container = pod.containers[0];
    expect(spec.replicas).toBe(2);
    expect(container.args).toEqual(['operator', '--leader-elect', '--webhook-bind-address=:9443']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const dockerfile = readFileSync(path.join(projectDir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  });

  test('kustomization.yaml names files that exist and builds with the real kubectl', async () => {
    const kustomization = load(readFileSync(path.join(deployDir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    for (const resource of kustomization.resources) expect(existsSync(path.join(deployDir, resource))).toBe(true);
    const built = loadAll(await kubectlOk(['kustomize', deployDir])) as Manifest[];
    const kinds = built.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(5);
    expect(kinds).toEqual(expect.arrayContaining(['Namespace', 'Deployment', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap']));
  });
});

describe('deploy/webhook.yaml', () => {
  test('the webhook configuration calls the operator through its Service, on the port the operator serves', () => {
    const [service, configuration] = manifests('webhook.yaml') as (Manifest & Record<string, unknown>)[];
    const hook = (
      configuration.webhooks as {
        clientConfig: { service: { name: string; namespace: string; port: number; path: string } };
        failurePolicy: string;
        rules: { resources: string[] }[];
      }[]
    )[0];
    expect(hook.clientConfig.service).toEqual({ name: service.metadata.name, namespace: 'berth-system', path: '/validate', port: 443 });
    expect((service.spec as { ports: { port: number; targetPort: string }[] }).ports).toEqual([expect.objectContaining({ port: 443, targetPort: 'webhook' })]);
    const deployment = manifests('operator.yaml').find((o) => o.kind === 'Deployment')!;
    const ports = (deployment.spec as { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } }).template.spec
      .containers[0].ports;
    expect(ports).toContainEqual({ name: 'webhook', containerPort: 9443, protocol: 'TCP' });
    expect(hook.failurePolicy).toBe('Fail');
    expect(hook.rules[0].resources).toEqual(['services', 'taskdefinitions', 'tasks']);
  });
});

describe('deploy/prometheusrule.yaml', () => {
  const rule = manifests('prometheusrule.yaml')[0];
  let dir: string;

  beforeAll(() => {
    if (!existsSync(promtool)) throw new Error(`${promtool} is missing: run test/env/up.sh (it installs Debian's prometheus)`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-promtool-'));
    writeFileSync(path.join(dir, 'rules.yaml'), dump({ groups: (rule.spec as RuleGroups).groups }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('promtool accepts the rules', async () => {
    const result = await run(promtool, ['check', 'rules', path.join(dir, 'rules.yaml')]);
    expect(result.stderr + result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  test('the alerts fire on the metrics the operator exports, and only then', async () => {
    const rules = (rule.spec as RuleGroups).groups.flatMap((g) => g.rules);
    // Expected annotations: the rule's own, with {{ $labels.x }} filled in.
    // `value`: what {{ $value }} (or {{ $value | humanize }}) renders as, for the alerts whose summary shows it.
    const alert = (name: string, labels: Record<string, string>, value = '') => ({
      exp_labels: labels,
      exp_annotations: Object.fromEntries(
        Object.entries(rules.find((r) => r.alert === name)!.annotations).map(([k, v]) => [
          k,
          v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, label: string) => labels[label] ?? '').replace(/\{\{ \$value( \| humanize)? \}\}/g, value),
        ]),
      ),
    });
    const job = 'job="berth-operator-metrics"';
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          // Two replicas, neither holding the Lease: no leader after 5 minutes.
          interval: '1m',
          input_series: [
            { series: `up{${job},pod="a"}`, values: '1x15' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="a"}`, values: '0x15' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="b"}`, values: '0x15' },
          ],
          alert_rule_test: [
            { eval_time: '3m', alertname: 'BerthNoLeader', exp_alerts: [] },
            { eval_time: '10m', alertname: 'BerthNoLeader', exp_alerts: [alert('BerthNoLeader', { severity: 'critical' })] },
            { eval_time: '10m', alertname: 'BerthOperatorDown', exp_alerts: [] },
          ],
        },
        {
          // One leader, a healthy operator: quiet.
          interval: '1m',
          input_series: [
            { series: `up{${job},pod="a"}`, values: '1x15' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="a"}`, values: '1x15' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="b"}`, values: '0x15' },
            { series: `workqueue_depth{${job},name="service",controller="service"}`, values: '3x15' },
            { series: `controller_runtime_reconcile_errors_total{${job},controller="service"}`, values: '0x15' },
          ],
          alert_rule_test: ['BerthNoLeader', 'BerthMultipleLeaders', 'BerthWorkqueueBacklog', 'BerthReconcileErrors', 'BerthOperatorDown'].map((alertname) => ({
            eval_time: '15m',
            alertname,
            exp_alerts: [],
          })),
        },
        {
          // No scrape target at all; a service whose rollout failed.
          interval: '1m',
          input_series: [
            { series: `berth_service_deployments{${job},namespace="shop",service="web",rollout_state="FAILED"}`, values: '1x15' },
            { series: `berth_service_deployments{${job},namespace="shop",service="api",rollout_state="COMPLETED"}`, values: '1x15' },
          ],
          alert_rule_test: [
            { eval_time: '12m', alertname: 'BerthOperatorDown', exp_alerts: [alert('BerthOperatorDown', { severity: 'critical' })] },
            {
              eval_time: '5m',
              alertname: 'BerthServiceRolloutFailed',
              exp_alerts: [alert('BerthServiceRolloutFailed', { severity: 'warning', namespace: 'shop', service: 'web' })],
            },
          ],
        },
        {
          // Cluster shop/demo: tasks wait from minute 0 and its group sits at maxSize 4; shop/edge's group is at
          // maxSize too but nothing waits there; shop/other has tasks that wait 5 minutes, then are placed.
          interval: '1m',
          input_series: [
            { series: `berth_tasks_awaiting_placement{${job},namespace="shop",cluster="demo",reason="RESOURCE:MEMORY"}`, values: '3x20' },
            { series: `berth_tasks_awaiting_placement{${job},namespace="shop",cluster="other",reason="RESOURCE:CPU"}`, values: '2x5 0x15' },
            { series: `berth_capacity_provider_desired_size{${job},namespace="shop",cluster="demo",capacity_provider="general"}`, values: '4x20' },
            { series: `berth_capacity_provider_max_size{${job},namespace="shop",cluster="demo",capacity_provider="general"}`, values: '4x20' },
            { series: `berth_capacity_provider_desired_size{${job},namespace="shop",cluster="edge",capacity_provider="general"}`, values: '2x20' },
            { series: `berth_capacity_provider_max_size{${job},namespace="shop",cluster="edge",capacity_provider="general"}`, values: '2x20' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'BerthTasksWaitingForPlacement', exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: 'BerthTasksWaitingForPlacement',
              exp_alerts: [alert('BerthTasksWaitingForPlacement', { severity: 'warning', namespace: 'shop', cluster: 'demo' })],
            },
            { eval_time: '9m', alertname: 'BerthCapacityProviderAtMaxSize', exp_alerts: [] },
            {
              eval_time: '15m',
              alertname: 'BerthCapacityProviderAtMaxSize',
              exp_alerts: [alert('BerthCapacityProviderAtMaxSize', { severity: 'warning', namespace: 'shop', cluster: 'demo', capacity_provider: 'general' })],
            },
          ],
        },
        {
          // The service controller fails 12 reconciles a minute (0.2 a second, humanized 200m) for 25 minutes:
          // over 0.1 a second, firing once that has lasted 15 minutes; its queue holds 150 keys as long; and both
          // replicas believe they lead.
          interval: '1m',
          input_series: [
            { series: `controller_runtime_reconcile_errors_total{${job},controller="service"}`, values: '0+12x25' },
            { series: `workqueue_depth{${job},name="service",controller="service"}`, values: '150x25' },
            { series: `up{${job},pod="a"}`, values: '1x25' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="a"}`, values: '1x25' },
            { series: `leader_election_master_status{${job},name="berth-operator",pod="b"}`, values: '1x25' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'BerthReconcileErrors', exp_alerts: [] },
            {
              eval_time: '25m',
              alertname: 'BerthReconcileErrors',
              exp_alerts: [alert('BerthReconcileErrors', { severity: 'warning', controller: 'service' }, '200m')],
            },
            { eval_time: '10m', alertname: 'BerthWorkqueueBacklog', exp_alerts: [] },
            {
              eval_time: '25m',
              alertname: 'BerthWorkqueueBacklog',
              exp_alerts: [alert('BerthWorkqueueBacklog', { severity: 'warning', name: 'service' }, '150')],
            },
            { eval_time: '3m', alertname: 'BerthMultipleLeaders', exp_alerts: [] },
            { eval_time: '10m', alertname: 'BerthMultipleLeaders', exp_alerts: [alert('BerthMultipleLeaders', { severity: 'critical' }, '2')] },
            { eval_time: '25m', alertname: 'BerthNoLeader', exp_alerts: [] },
          ],
        },
      ],
    };
    // Every alert of the rules is tested to fire somewhere above.
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect(rules.map((r) => r.alert).filter((name) => !fired.has(name))).toEqual([]);
    writeFileSync(path.join(dir, 'tests.yaml'), dump(tests));
    const result = await run(promtool, ['test', 'rules', path.join(dir, 'tests.yaml')]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(path.join(deployDir, 'grafana-dashboard.json'), 'utf8')) as Dashboard;
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  test('has uniquely numbered panels, each with a query', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) expect(panel.targets.length).toBeGreaterThan(0);
  });

  test.each([
    'controller_runtime_reconcile_errors_total',
    'controller_runtime_reconcile_total',
    'controller_runtime_reconcile_time_seconds_bucket',
    'workqueue_depth',
    'leader_election_master_status',
    'berth_service_deployments',
    'berth_capacity_provider_reservation',
    'berth_capacity_provider_instances',
    'berth_tasks_awaiting_placement',
    'berth_service_desired_tasks',
    'berth_service_running_tasks',
    'berth_service_pending_tasks',
    'berth_service_rollout_duration_seconds_bucket',
    'berth_task_launch_duration_seconds_bucket',
    'berth_task_stops_total',
    'berth_placement_failures_total',
    'berth_capacity_provider_desired_size',
    'berth_capacity_provider_max_size',
    'berth_autoscaling_decisions_total',
    'berth_container_instance_cpu_reserved_ratio',
    'berth_container_instance_memory_reserved_ratio',
  ])('charts %s', (metric) => {
    expect(exprs.some((e) => e.includes(metric))).toBe(true);
  });
});
