// deploy/rbac.yaml gives the operator what it needs and nothing more: checked by the real API server's
// RBAC authorizer through `kubectl auth can-i --as` (a SubjectAccessReview per line).
import * as path from 'node:path';
import { kubectl, kubectlOk } from '../env/env';
import { installClusterApiCrds } from '../support/machine-deployments';

const deployDir = path.resolve(__dirname, '..', '..', 'deploy');
const operator = 'system:serviceaccount:berth-system:berth-operator';

beforeAll(async () => {
  // kubectl resolves the resources it is asked about: the Cluster API kinds must be served.
  await installClusterApiCrds();
  await kubectlOk([
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=berth-tests',
    '-f',
    path.join(deployDir, 'namespace.yaml'),
    '-f',
    path.join(deployDir, 'rbac.yaml'),
  ]);
});

const externalMetrics = '.external.metrics.k8s.io';

/**
 * `kubectl auth can-i VERB RESOURCE [-n NS]` as the operator: true for "yes", false for "no". An external metric is
 * asked with a SubjectAccessReview of its own: its name is a resource only while an adapter lists it, and kubectl
 * sends a name discovery does not know as a resource of the core group.
 */
async function operatorCan(verb: string, resource: string, namespace: string, subresource: string): Promise<boolean> {
  if (resource.endsWith(externalMetrics)) {
    const review = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: operator,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:berth-system', 'system:authenticated'],
        resourceAttributes: { group: externalMetrics.slice(1), resource: resource.slice(0, -externalMetrics.length), verb, namespace },
      },
    };
    return (await kubectlOk(['create', '-f', '-', '-o', 'jsonpath={.status.allowed}'], JSON.stringify(review))) === 'true';
  }
  const args = ['auth', 'can-i', verb, resource, `--as=${operator}`];
  args.push(...(namespace ? ['-n', namespace] : ['--all-namespaces']));
  if (subresource) args.push(`--subresource=${subresource}`);
  const result = await kubectl(args);
  const answer = result.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return answer === 'yes';
}

type Check = [verb: string, resource: string, namespace?: string, subresource?: string];
// Rows padded to four values: jest passes a `done` callback to a test whose rows are shorter than
// its parameter list. '' = all namespaces / no subresource.
const rows = (checks: Check[]) => checks.map(([verb, resource, namespace, subresource]) => [verb, resource, namespace ?? '', subresource ?? '']);

const allowed: Check[] = [
  ['watch', 'services.berth.dev'],
  ['create', 'tasks.berth.dev', 'default'],
  ['delete', 'tasks.berth.dev', 'team-a'],
  ['patch', 'services.berth.dev', 'default', 'status'],
  ['update', 'taskdefinitions.berth.dev', 'default', 'status'],
  ['update', 'clusters.berth.dev', 'default', 'finalizers'],
  ['create', 'controllerrevisions.apps', 'team-a'],
  ['list', 'secrets'],
  ['watch', 'configmaps'],
  ['get', 'serviceaccounts', 'team-a'],
  ['watch', 'serviceaccounts'],
  ['create', 'serviceaccounts', 'team-a', 'token'],
  ['create', 'events', 'team-a'],
  ['patch', 'events.events.k8s.io', 'team-a'],
  ['get', 'leases.coordination.k8s.io', 'berth-system'],
  ['create', 'leases.coordination.k8s.io', 'berth-system'],
  ['update', 'leases.coordination.k8s.io', 'berth-system'],
  ['create', 'leases.coordination.k8s.io', 'team-a'],
  ['watch', 'leases.coordination.k8s.io'],
  ['create', 'secrets', 'berth-system'],
  ['get', 'secrets/berth-webhook-tls', 'berth-system'],
  ['update', 'secrets/berth-webhook-tls', 'berth-system'],
  ['get', 'validatingwebhookconfigurations.admissionregistration.k8s.io/berth-webhook'],
  ['update', 'validatingwebhookconfigurations.admissionregistration.k8s.io/berth-webhook'],
  ['watch', 'nodes'],
  ['patch', 'nodes'],
  ['list', 'pods'],
  ['create', 'pods', 'team-a'],
  ['delete', 'pods', 'team-a'],
  ['get', 'pods.metrics.k8s.io', 'team-a'],
  ['list', 'pods.metrics.k8s.io'],
  ['list', 'requests_per_minute.external.metrics.k8s.io', 'team-a'],
  ['get', 'machinedeployments.cluster.x-k8s.io', 'team-a', 'scale'],
  ['patch', 'machinedeployments.cluster.x-k8s.io', 'team-a', 'scale'],
  ['get', 'machines.cluster.x-k8s.io', 'team-a'],
  ['patch', 'machines.cluster.x-k8s.io', 'team-a'],
  ['watch', 'horizontalpodautoscalers.autoscaling'],
];

const denied: Check[] = [
  ['delete', 'secrets', 'default'],
  ['create', 'secrets', 'default'],
  ['update', 'configmaps', 'default'],
  ['update', 'pods', 'default'],
  ['patch', 'pods', 'default'],
  ['update', 'nodes'],
  ['delete', 'nodes'],
  ['create', 'nodes'],
  ['update', 'pods', 'default', 'status'],
  ['create', 'pods', 'default', 'eviction'],
  ['create', 'pods', 'default', 'exec'],
  ['watch', 'pods.metrics.k8s.io'],
  ['get', 'nodes.metrics.k8s.io'],
  ['watch', 'requests_per_minute.external.metrics.k8s.io', 'team-a'],
  ['get', 'nodes', '', 'proxy'],
  ['create', 'serviceaccounts', 'default'],
  ['update', 'services.berth.dev', 'default', 'scale'],
  ['update', 'horizontalpodautoscalers.autoscaling', 'default'],
  ['patch', 'machinedeployments.cluster.x-k8s.io', 'team-a'],
  ['delete', 'machines.cluster.x-k8s.io', 'team-a'],
  ['list', 'machines.cluster.x-k8s.io', 'team-a'],
  ['delete', 'customresourcedefinitions.apiextensions.k8s.io'],
  ['delete', 'leases.coordination.k8s.io', 'berth-system'],
  ['delete', 'leases.coordination.k8s.io', 'team-a'],
  ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
  ['impersonate', 'users'],
  ['update', 'secrets/other', 'berth-system'],
  ['delete', 'secrets/berth-webhook-tls', 'berth-system'],
  ['update', 'validatingwebhookconfigurations.admissionregistration.k8s.io/other'],
  ['create', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
  ['update', 'mutatingwebhookconfigurations.admissionregistration.k8s.io/berth-webhook'],
];

describe('deploy/rbac.yaml', () => {
  test.each(rows(allowed))('the operator may %s %s (namespace "%s", subresource "%s")', async (verb, resource, namespace, subresource) => {
    expect(await operatorCan(verb, resource, namespace, subresource)).toBe(true);
  });

  test.each(rows(denied))('the operator may not %s %s (namespace "%s", subresource "%s")', async (verb, resource, namespace, subresource) => {
    expect(await operatorCan(verb, resource, namespace, subresource)).toBe(false);
  });
});
