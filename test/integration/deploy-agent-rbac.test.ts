// deploy/agent-rbac.yaml gives `berth agent` what it needs in its namespace and nothing more: checked by
// the real API server's RBAC authorizer through `kubectl auth can-i --as` (a SubjectAccessReview per
// line), for a ServiceAccount bound to the ClusterRole by a RoleBinding, as the file's comment says.
// (test/integration/process/berth-agent.test.ts runs an agent on these credentials.)
import * as path from 'node:path';
import { kubectl, kubectlOk } from '../env/env';
import { runSuffix } from './process/cli-process';

const deployDir = path.resolve(__dirname, '..', '..', 'deploy');
const namespace = `agent-rbac-${runSuffix()}`;
const agent = `system:serviceaccount:${namespace}:berth-agent`;

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', path.join(deployDir, 'agent-rbac.yaml')]);
  await kubectlOk(['create', 'namespace', namespace]);
  await kubectlOk(['create', 'serviceaccount', 'berth-agent', '-n', namespace]);
  await kubectlOk(['create', 'rolebinding', 'berth-agent', '-n', namespace, '--clusterrole', 'berth-agent', `--serviceaccount=${namespace}:berth-agent`]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

/** `kubectl auth can-i VERB RESOURCE -n NS` as the agent: true for "yes", false for "no". */
async function agentCan(verb: string, resource: string, namespaceName: string, subresource: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, `--as=${agent}`, '-n', namespaceName];
  if (subresource) args.push(`--subresource=${subresource}`);
  const result = await kubectl(args);
  const answer = result.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return answer === 'yes';
}

type Check = [verb: string, resource: string, subresource?: string, otherNamespace?: boolean];
// Rows padded to four values: jest passes a `done` callback to a test whose rows are shorter than its parameter list.
const rows = (checks: Check[]) =>
  checks.map(([verb, resource, subresource, otherNamespace]) => [verb, resource, subresource ?? '', otherNamespace ? 'default' : namespace]);

const allowed: Check[] = [
  ['get', 'clusters.berth.dev'],
  ['create', 'containerinstances.berth.dev'],
  ['update', 'containerinstances.berth.dev'],
  ['watch', 'containerinstances.berth.dev'],
  ['patch', 'containerinstances.berth.dev', 'status'],
  ['watch', 'tasks.berth.dev'],
  ['update', 'tasks.berth.dev', 'status'],
  ['patch', 'tasks.berth.dev', 'status'],
  ['watch', 'services.berth.dev'],
  ['list', 'controllerrevisions.apps'],
  ['get', 'secrets'],
  ['watch', 'configmaps'],
  ['create', 'leases.coordination.k8s.io'],
  ['update', 'leases.coordination.k8s.io'],
  ['create', 'events'],
];

const denied: Check[] = [
  ['get', 'clusters.berth.dev', '', true],
  ['create', 'containerinstances.berth.dev', '', true],
  ['update', 'clusters.berth.dev'],
  ['delete', 'containerinstances.berth.dev'],
  ['patch', 'containerinstances.berth.dev'],
  ['update', 'containerinstances.berth.dev', 'status'],
  ['create', 'tasks.berth.dev'],
  ['update', 'tasks.berth.dev'],
  ['delete', 'tasks.berth.dev'],
  ['patch', 'services.berth.dev', 'status'],
  ['update', 'services.berth.dev'],
  ['get', 'services.berth.dev', '', true],
  ['create', 'controllerrevisions.apps'],
  ['update', 'secrets'],
  ['create', 'serviceaccounts', 'token'],
  ['delete', 'leases.coordination.k8s.io'],
  ['create', 'pods'],
];

// People drain and undrain instances by hand: berth-edit (which aggregates into the built-in edit role;
// bound directly here, as the test control plane runs no aggregation controller) may patch an instance,
// and still may not write its status.
test('an editor may drain an instance (patch), not write its status', async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', path.join(deployDir, 'rbac.yaml')]);
  await kubectlOk(['create', 'rolebinding', 'editor', '-n', namespace, '--clusterrole', 'berth-edit', '--user', 'jane']);
  const can = async (verb: string, subresource?: string) =>
    (
      await kubectl([
        'auth',
        'can-i',
        verb,
        'containerinstances.berth.dev',
        '--as=jane',
        '-n',
        namespace,
        ...(subresource ? [`--subresource=${subresource}`] : []),
      ])
    ).stdout.trim();
  expect(await can('patch')).toBe('yes');
  expect(await can('patch', 'status')).toBe('no');
  expect(await can('update')).toBe('no');
});

describe('deploy/agent-rbac.yaml', () => {
  test.each(rows(allowed))('the agent may %s %s (subresource "%s", namespace %s)', async (verb, resource, subresource, namespaceName) => {
    expect(await agentCan(verb, resource, namespaceName, subresource)).toBe(true);
  });

  test.each(rows(denied))('the agent may not %s %s (subresource "%s", namespace %s)', async (verb, resource, subresource, namespaceName) => {
    expect(await agentCan(verb, resource, namespaceName, subresource)).toBe(false);
  });
});
