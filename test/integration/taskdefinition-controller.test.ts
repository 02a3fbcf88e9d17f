import { KubeConfig } from '@kubernetes/client-node';
import { addControllers } from '../../src/controllers';
import { silentLogger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import { KubeStore } from '../../src/store/kube/kube-store';
import { kubectl, kubectlOk, testEnv } from '../env/env';
import { eventually } from '../../src/runtime/eventually';

/** The TaskDefinition controller against the real API server, driven by the real kubectl. */

const namespace = `td-${Date.now().toString(36)}`;
let manager: Manager;
let running: Promise<void>;

function manifest(image: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
  namespace: ${namespace}
spec:
  containerDefinitions:
    - name: web
      image: ${image}
      memory: 64
      secrets:
        - name: TOKEN
          valueFrom:
            secretKeyRef: { name: api-token, key: token }
`;
}

const jsonpath = (resource: string, path: string) => kubectlOk(['get', resource, '-n', namespace, '-o', `jsonpath=${path}`]);

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  manager = new Manager({ store: new KubeStore(config), logger: silentLogger(), metricsServer: false, healthServer: false });
  addControllers(manager, { namespace });
  running = manager.start();
});

afterAll(async () => {
  await manager.stop();
  await running;
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('an image change registers revision 2 while revision 1 stays readable', async () => {
  await kubectlOk(['apply', '-f', '-'], manifest('busybox:1.36'));
  await eventually(async () => (await jsonpath('btd/web', '{.status.revision}')) === '1', 'revision 1');
  expect(await jsonpath('btd/web', '{.status.status}')).toBe('ACTIVE');

  await kubectlOk(['apply', '-f', '-'], manifest('busybox:1.37'));
  await eventually(async () => (await jsonpath('btd/web', '{.status.revision}')) === '2', 'revision 2');

  expect(await jsonpath('controllerrevision/web-1', '{.data.spec.containerDefinitions[0].image}')).toBe('busybox:1.36');
  expect(await jsonpath('controllerrevision/web-2', '{.data.spec.containerDefinitions[0].image}')).toBe('busybox:1.37');
  const listed = await kubectlOk(['get', 'controllerrevisions', '-n', namespace, '-l', 'berth.dev/family=web', '-o', 'name']);
  expect(listed.trim().split('\n').sort()).toEqual(['controllerrevision.apps/web-1', 'controllerrevision.apps/web-2']);

  const events = await kubectlOk(['get', 'events', '-n', namespace, '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={.items[*].message}']);
  expect(events).toContain('registered web:2');
});

test('a missing Secret is explained in a condition, and the condition clears when it appears', async () => {
  await kubectlOk(['apply', '-f', '-'], manifest('busybox:1.37'));
  const resolved = () => jsonpath('btd/web', '{.status.conditions[?(@.type=="ReferencesResolved")].status}');
  await eventually(async () => (await resolved()) === 'False', 'ReferencesResolved=False');
  expect(await jsonpath('btd/web', '{.status.conditions[?(@.type=="ReferencesResolved")].message}')).toContain(
    `containerDefinitions[web].secrets[TOKEN]: Secret ${namespace}/api-token not found`,
  );
  await kubectlOk(['create', 'secret', 'generic', 'api-token', '-n', namespace, '--from-literal=token=s3cr3t-value']);
  await eventually(async () => (await resolved()) === 'True', 'ReferencesResolved=True');
  const status = await jsonpath('btd/web', '{.status}');
  expect(status).not.toContain('s3cr3t-value');
});

test('deleting the TaskDefinition deregisters the family and removes its revisions', async () => {
  await kubectlOk(['delete', 'btd', 'web', '-n', namespace, '--timeout=30s']);
  const left = await kubectlOk(['get', 'controllerrevisions', '-n', namespace, '-l', 'berth.dev/family=web', '-o', 'name']);
  expect(left.trim()).toBe('');
});
