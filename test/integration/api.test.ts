import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { kubectl, kubectlOk } from '../env/env';

/**
 * The API as a user meets it: CRDs applied by jest's globalSetup with the real kubectl, then the
 * examples, the bad-manifest corpus, `kubectl get berth` and `kubectl explain`.
 */

const root = path.resolve(__dirname, '..', '..');
const namespace = `api-${Date.now().toString(36)}`;

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('every manifest in examples/ applies', async () => {
  const output = await kubectlOk(['apply', '-n', namespace, '-f', path.join(root, 'examples')]);
  const applied = readdirSync(path.join(root, 'examples')).filter((file) => file.endsWith('.yaml'));
  expect(output.trim().split('\n')).toHaveLength(applied.length);
  expect(output).toContain('cluster.berth.dev/demo created');
  expect(output).toContain('service.berth.dev/web created');
});

test('kubectl get berth lists the objects with their columns', async () => {
  await kubectlOk(['apply', '-n', namespace, '-f', path.join(root, 'examples')]);
  const output = await kubectlOk(['get', 'berth', '-n', namespace]);
  expect(output).toMatch(/NAME\s+CLUSTER\s+TASKDEFINITION\s+DESIRED\s+RUNNING\s+PENDING\s+ROLLOUT\s+AGE/);
  expect(output).toMatch(/service\.berth\.dev\/web\s+demo/);
  expect(output).toContain('taskdefinition.berth.dev/web');
  expect(output).toContain('cluster.berth.dev/demo');
  // Short names reach the same objects.
  expect(await kubectlOk(['get', 'bsvc', 'web', '-n', namespace, '-o', 'jsonpath={.spec.desiredCount}'])).toBe('3');
});

test('defaults are applied by the API server', async () => {
  await kubectlOk(['apply', '-n', namespace, '-f', path.join(root, 'examples')]);
  const essential = await kubectlOk(['get', 'btd', 'web', '-n', namespace, '-o', 'jsonpath={.spec.containerDefinitions[*].essential}']);
  expect(essential.split(' ')).toContain('true');
  expect(await kubectlOk(['get', 'btd', 'web', '-n', namespace, '-o', 'jsonpath={.spec.networkMode}'])).toBe('bridge');
});

test('kubectl explain describes the deployment configuration', async () => {
  const output = await kubectlOk(['explain', 'services.spec.deploymentConfiguration', '--api-version', 'berth.dev/v1alpha1']);
  expect(output).toContain('minimumHealthyPercent');
  expect(output).toContain('maximumPercent');
  expect(output).toContain('deploymentCircuitBreaker');
});

test('kubectl scale works through the scale subresource', async () => {
  await kubectlOk(['apply', '-n', namespace, '-f', path.join(root, 'examples')]);
  await kubectlOk(['scale', 'services.berth.dev/web', '-n', namespace, '--replicas=5']);
  expect(await kubectlOk(['get', 'bsvc', 'web', '-n', namespace, '-o', 'jsonpath={.spec.desiredCount}'])).toBe('5');
});

test('limits that leave a deployment no room are refused on apply, but kubectl scale into them is not', async () => {
  const manifest = (desiredCount: number, maximumPercent: number) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: tight
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: ${desiredCount}
  deploymentConfiguration:
    minimumHealthyPercent: 100
    maximumPercent: ${maximumPercent}
`;
  // desiredCount 2 at 100 / 150: keep 2, allow 3, so one task can be replaced at a time.
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], manifest(2, 150));
  await kubectlOk(['scale', 'services.berth.dev/tight', '-n', namespace, '--replicas=1']);
  expect(await kubectlOk(['get', 'bsvc', 'tight', '-n', namespace, '-o', 'jsonpath={.spec.desiredCount}'])).toBe('1');
  // The same limits applied again at desiredCount 1 change nothing of deploymentConfiguration: accepted.
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], manifest(1, 150));
  const changed = await kubectl(['apply', '-n', namespace, '-f', '-'], manifest(1, 140));
  expect(changed.code).not.toBe(0);
  expect(changed.stderr).toContain(
    'spec.deploymentConfiguration: Invalid value: "object": with desiredCount 1, minimumHealthyPercent 100 keeps 1 task running and maximumPercent 140 allows 1 at once',
  );
});

const badDir = path.join(root, 'test', 'fixtures', 'bad-manifests');
const badManifests = readdirSync(badDir).filter((file) => file.endsWith('.yaml'));

test('the bad-manifest corpus is large enough to mean something', () => {
  expect(badManifests.length).toBeGreaterThanOrEqual(20);
});

describe('the API server refuses bad manifests, naming the field', () => {
  test.each(badManifests)('%s', async (file) => {
    const text = readFileSync(path.join(badDir, file), 'utf8');
    const expected = /^# expect: (.+)$/m.exec(text)?.[1]?.trim();
    expect(expected).toBeTruthy();
    const result = await kubectl(['apply', '-n', namespace, '-f', '-'], text);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(expected);
  });
});
