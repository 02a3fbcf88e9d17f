// The validating admission webhook on the real kube-apiserver: the operator's webhook server (in this
// process, on 127.0.0.1) with its own certificate manager, registered by URL with the caBundle the manager
// wrote; `kubectl apply` of a Service whose memberOf expression does not parse is refused by the API
// server with the field and the column, a valid one is accepted. The configuration only selects this
// test's namespace (the API server is shared with other tests) and is deleted afterwards.
import { KubeConfig } from '@kubernetes/client-node';
import { X509Certificate } from 'node:crypto';
import { serveWebhook, validatePath, type WebhookServer } from '../../src/admission/webhook-server';
import { createLogger } from '../../src/runtime/logger';
import { secrets, validatingWebhookConfigurations } from '../../src/store/builtin-types';
import { KubeStore } from '../../src/store/kube/kube-store';
import { RestClient } from '../../src/store/kube/rest-client';
import { whoAmI } from '../../src/store/kube/who-am-i';
import type { KubeObject } from '../../src/store/object-store';
import { kubectl, kubectlOk, testEnv } from '../env/env';
import { runSuffix } from './process/cli-process';

const suffix = runSuffix();
const namespace = `webhook-${suffix}`;
const configurationName = `berth-webhook-test-${suffix}`;
const config = new KubeConfig();
config.loadFromFile(testEnv().kubeconfig);
const store = new KubeStore(config);
let server: WebhookServer | undefined;
/** The operator's user, as whoAmI tells it in a Pod; the test's kubectl (the admin) is someone else. */
const scheduler = 'system:serviceaccount:berth-system:berth-operator';

const service = (expression: string) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
  namespace: ${namespace}
spec:
  cluster: demo
  taskDefinition: web
  placementConstraints:
    - type: memberOf
      expression: "${expression}"
`;

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
  await kubectlOk(['label', 'namespace', namespace, `berth-webhook-test=${suffix}`]);
  // The configuration exists before the server starts, as deploy/ applies it: the manager fills its caBundle.
  await store.create(validatingWebhookConfigurations, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: configurationName },
    webhooks: [
      {
        name: 'validate.berth.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        namespaceSelector: { matchLabels: { 'berth-webhook-test': suffix } },
        rules: [{ apiGroups: ['berth.dev'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['services', 'taskdefinitions', 'tasks'] }],
        // The port is not known yet: set once the server listens.
        clientConfig: { url: `https://127.0.0.1:1${validatePath}` },
      },
    ],
  } as KubeObject);
  server = await serveWebhook(
    {
      store,
      identity: { namespace, secretName: 'berth-webhook-tls', serviceName: 'berth-webhook', configurationName, extraNames: ['127.0.0.1'] },
      logger: createLogger({ level: 'error' }),
      scheduler,
    },
    { host: '127.0.0.1', port: 0 },
  );
  const current = await store.get<KubeObject & { webhooks: { clientConfig: Record<string, string> }[] }>(
    validatingWebhookConfigurations,
    undefined,
    configurationName,
  );
  await store.update(validatingWebhookConfigurations, {
    ...current!,
    webhooks: current!.webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, url: `https://127.0.0.1:${server!.port}${validatePath}` } })),
  });
});

afterAll(async () => {
  await store.delete(validatingWebhookConfigurations, undefined, configurationName).catch(() => undefined);
  await server?.close();
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('the certificate manager stored a CA and a serving certificate for the service and 127.0.0.1, and wrote the CA into the configuration', async () => {
  const secret = await store.get<KubeObject & { type: string; data: Record<string, string> }>(secrets, namespace, 'berth-webhook-tls');
  expect(secret?.type).toBe('kubernetes.io/tls');
  const leaf = new X509Certificate(Buffer.from(secret!.data['tls.crt'], 'base64'));
  const ca = new X509Certificate(Buffer.from(secret!.data['ca.crt'], 'base64'));
  expect(leaf.verify(ca.publicKey)).toBe(true);
  expect(leaf.checkHost(`berth-webhook.${namespace}.svc`)).toBeDefined();
  expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
  const configuration = await store.get<KubeObject & { webhooks: { clientConfig: { caBundle: string } }[] }>(
    validatingWebhookConfigurations,
    undefined,
    configurationName,
  );
  expect(Buffer.from(configuration!.webhooks[0].clientConfig.caBundle, 'base64').toString()).toBe(server!.serving.caBundle);
});

test('kubectl apply of an expression that does not parse is refused by the API server, with the field and the column', async () => {
  const result = await kubectl(['apply', '-f', '-'], service('attribute:ecs.instance-type =~'));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('admission webhook "validate.berth.dev" denied the request');
  expect(result.stderr).toContain(
    `spec.placementConstraints[0].expression: Invalid value: "attribute:ecs.instance-type =~": expected a value after '=~', found the end of the expression at column 31`,
  );
  expect((await kubectl(['get', 'bsvc', 'web', '-n', namespace])).code).not.toBe(0);
});

test('a valid expression is accepted, and an update that breaks it is refused while the object stays as it was', async () => {
  await kubectlOk(['apply', '-f', '-'], service('attribute:ecs.instance-type =~ t2.* and not(attribute:tier == batch)'));
  const refused = await kubectl(['apply', '-f', '-'], service('attribute:tier in [web'));
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("expected ']' to close the list, found the end of the expression at column 23");
  const stored = JSON.parse(await kubectlOk(['get', 'bsvc', 'web', '-n', namespace, '-o', 'json'])) as {
    spec: { placementConstraints: { expression: string }[] };
  };
  expect(stored.spec.placementConstraints[0].expression).toBe('attribute:ecs.instance-type =~ t2.* and not(attribute:tier == batch)');
});

test('what the CRD refuses is still refused by the API server itself', async () => {
  const result = await kubectl(['apply', '-f', '-'], service('attribute:a == b').replace('memberOf', 'distinctInstance'));
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('spec.placementConstraints[0].expression: Forbidden: distinctInstance takes no expression');
});

test('a task admitted by anyone but the scheduler is refused: admission is its word that the task fits', async () => {
  const task = (annotations: string) => `apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: pinned
  namespace: ${namespace}${annotations}
spec:
  cluster: demo
  taskDefinition: web:1
  containerInstance: demo-general-0
`;
  const admitted = `
  annotations:
    berth.dev/admitted: "true"`;
  const refused = await kubectl(['apply', '-f', '-'], task(admitted));
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(
    `Task.berth.dev "pinned" is forbidden: metadata.annotations[berth.dev/admitted]: only Berth's scheduler (${scheduler}) admits a task, once it fits its container instance`,
  );
  // Bound at creation (ECS StartTask) is the user's to ask; admitting it stays the scheduler's.
  await kubectlOk(['apply', '-f', '-'], task(''));
  expect((await kubectl(['annotate', 'btask', 'pinned', '-n', namespace, 'berth.dev/admitted=true'])).code).not.toBe(0);
  await kubectlOk(['annotate', 'btask', 'pinned', '-n', namespace, 'berth.dev/admitted=true', `--as=${scheduler}`, '--as-group=system:masters']);
  expect(await kubectlOk(['get', 'btask', 'pinned', '-n', namespace, '-o', 'jsonpath={.metadata.annotations.berth\\.dev/admitted}'])).toBe('true');
});

test('whoAmI tells the operator who it is, as kubectl auth whoami does', async () => {
  const kubectlSays = await kubectlOk(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  expect(kubectlSays).not.toBe('');
  expect(await whoAmI(new RestClient(config))).toBe(kubectlSays);
});
