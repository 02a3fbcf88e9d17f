// The roles deploy/rbac.yaml gives people let them use the CLI: berth-view reads what `berth describe` and
// `berth logs` read; berth-edit also runs tasks (`berth run-task`) and stops them (`berth stop-task`). Checked
// by the real API server's RBAC authorizer through `kubectl auth can-i --as`, each role bound on its own by a
// RoleBinding (the test control plane runs no aggregation controller).
import * as path from 'node:path';
import { kubectl, kubectlOk } from '../env/env';
import { runSuffix } from './process/cli-process';

const deployDir = path.resolve(__dirname, '..', '..', 'deploy');
const namespace = `user-rbac-${runSuffix()}`;

beforeAll(async () => {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', path.join(deployDir, 'rbac.yaml')]);
  await kubectlOk(['create', 'namespace', namespace]);
  await kubectlOk(['create', 'rolebinding', 'viewer', '-n', namespace, '--clusterrole', 'berth-view', '--user', 'ann']);
  await kubectlOk(['create', 'rolebinding', 'editor', '-n', namespace, '--clusterrole', 'berth-edit', '--user', 'jane']);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

async function can(user: string, verb: string, resource: string, subresource: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, `--as=${user}`, '-n', namespace, ...(subresource ? [`--subresource=${subresource}`] : [])];
  const answer = (await kubectl(args)).stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`kubectl ${args.join(' ')}: no answer`);
  return answer === 'yes';
}

/** What the commands read: describe (service, tasks, Events), logs (task, instance, Pod, its log), run-task (revisions). */
const reads: [verb: string, resource: string, subresource: string][] = [
  ['get', 'services.berth.dev', ''],
  ['list', 'tasks.berth.dev', ''],
  ['list', 'events', ''],
  ['get', 'containerinstances.berth.dev', ''],
  ['get', 'pods', ''],
  ['get', 'pods', 'log'],
  ['list', 'controllerrevisions.apps', ''],
];

/** What run-task and stop-task write. */
const taskWrites: [verb: string, resource: string, subresource: string][] = [
  ['create', 'tasks.berth.dev', ''],
  ['patch', 'tasks.berth.dev', ''],
];

test.each(reads)('a viewer and an editor may %s %s (subresource "%s")', async (verb, resource, subresource) => {
  expect(await can('ann', verb, resource, subresource)).toBe(true);
  expect(await can('jane', verb, resource, subresource)).toBe(true);
});

test.each(taskWrites)('an editor may %s %s, a viewer may not', async (verb, resource, subresource) => {
  expect(await can('jane', verb, resource, subresource)).toBe(true);
  expect(await can('ann', verb, resource, subresource)).toBe(false);
});

test.each([
  ['update', 'tasks.berth.dev', 'status'],
  ['patch', 'tasks.berth.dev', 'status'],
  ['create', 'pods', ''],
  ['create', 'pods', 'exec'],
  ['create', 'events', ''],
  ['create', 'controllerrevisions.apps', ''],
])('neither may %s %s (subresource "%s")', async (verb, resource, subresource) => {
  expect(await can('ann', verb, resource, subresource)).toBe(false);
  expect(await can('jane', verb, resource, subresource)).toBe(false);
});
