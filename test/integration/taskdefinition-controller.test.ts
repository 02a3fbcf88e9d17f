import { KubeConfig } from '@kubernetes/client-node';
import { addControllers } from '../../src/controllers';
import { silentLogger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import { KubeStore } from '../../src/store/kube/kube-store';
import { kubectl, kubectlOk, testEnv } from '../env/env';
import { eventually } from '../../src/runtime/eventually';
import { CountingStore } from '../../src/store/testing/counting-store';

/** The TaskDefinition controller against the real API server, driven by the real kubectl. */

const namespace = `td-${Date.now().toString(36)}`;
let manager: Manager;
let running: Promise<void>;
let writes: CountingStore;

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

/**
 * A TaskDefinition of `family` named `name`, spec.family set only when it differs from the name. The
 * command holds `&` and `>`, which the API server escapes when it re-encodes JSON: writes to a revision
 * must leave its immutable data byte for byte as stored.
 */
function familyManifest(name: string, family: string, image: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
${name === family ? '' : `  family: ${family}\n`}  containerDefinitions:
    - name: app
      image: ${image}
      memory: 64
      command: [sh, -c, 'echo ready > /tmp/ready && sleep 3600 & wait']
`;
}

const revisionNames = async (family: string) =>
  (await kubectlOk(['get', 'controllerrevisions', '-n', namespace, '-l', `berth.dev/family=${family}`, '-o', 'name']))
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort();
const registered = (name: string, field: 'status' | 'reason' | 'message') => jsonpath(`btd/${name}`, `{.status.conditions[?(@.type=="Registered")].${field}}`);
/** True once the controller has answered the object's current generation. */
const answered = async (name: string) =>
  (await jsonpath(`btd/${name}`, '{.metadata.generation}')) === (await jsonpath(`btd/${name}`, '{.status.observedGeneration}'));
const eventsOf = (name: string, reason: string, field: string) =>
  kubectlOk(['get', 'events', '-n', namespace, '--field-selector', `involvedObject.name=${name},reason=${reason}`, '-o', `jsonpath={.items[*].${field}}`]);

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  writes = new CountingStore(new KubeStore(config));
  manager = new Manager({ store: writes.store, logger: silentLogger(), metricsServer: false, healthServer: false });
  addControllers(manager, { namespace });
  running = manager.start();
});

afterAll(async () => {
  // While the controllers still run, so that they release the finalizers of what the namespace holds.
  await kubectl(['delete', 'namespace', namespace, '--timeout=60s']);
  await manager.stop();
  await running;
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

describe('one family, one owner', () => {
  test('a second object of a registered family registers nothing, writes its status once per change, and warns once', async () => {
    await kubectlOk(['apply', '-f', '-'], familyManifest('shop', 'shop', 'busybox:1.36'));
    await eventually(async () => (await jsonpath('btd/shop', '{.status.revision}')) === '1', 'shop:1');
    await kubectlOk(['apply', '-f', '-'], familyManifest('shop-copy', 'shop', 'busybox:1.37'));
    await eventually(() => answered('shop-copy'), 'shop-copy to be answered');
    // Every spec change of the second object must be answered by one status write, and register nothing.
    for (const image of ['busybox:1.38', 'busybox:1.39', 'busybox:1.40']) {
      await kubectlOk(['apply', '-f', '-'], familyManifest('shop-copy', 'shop', image));
      await eventually(() => answered('shop-copy'), `shop-copy to be answered for ${image}`);
    }

    expect(await revisionNames('shop')).toEqual(['controllerrevision.apps/shop-1']);
    expect(writes.matching({ verb: 'create', resource: 'controllerrevisions.apps', outcome: 'ok' }).filter((w) => w.name.startsWith('shop-'))).toHaveLength(1);
    expect(writes.matching({ verb: 'updateStatus', resource: 'taskdefinitions.berth.dev', name: 'shop', outcome: 'ok' }).length).toBe(1);
    expect(writes.matching({ verb: 'updateStatus', resource: 'taskdefinitions.berth.dev', name: 'shop-copy', outcome: 'ok' }).length).toBe(4);
    expect(await registered('shop-copy', 'reason')).toBe('FamilyConflict');
    expect(await registered('shop-copy', 'message')).toBe(
      'family shop belongs to TaskDefinition shop, which registered its revisions: this object registers nothing while shop exists',
    );
    expect(await jsonpath('btd/shop-copy', '{.status.revision}')).toBe('');
    await eventually(async () => (await eventsOf('shop-copy', 'FamilyConflict', 'type')) === 'Warning', 'the Warning event');
    expect(await eventsOf('shop-copy', 'FamilyConflict', 'count')).toBe('1');
  });

  test('deleting the owner hands the family to the waiting object, which goes on from the next number', async () => {
    await kubectlOk(['delete', 'btd', 'shop', '-n', namespace, '--timeout=30s']);
    await eventually(async () => (await jsonpath('btd/shop-copy', '{.status.revision}')) === '2', 'shop-copy to register shop:2');
    expect(await jsonpath('btd/shop-copy', '{.status.status}')).toBe('ACTIVE');
    expect(await registered('shop-copy', 'status')).toBe('True');
    await eventually(async () => (await revisionNames('shop')).join() === 'controllerrevision.apps/shop-2', 'only shop-2 to be left');
    expect(await jsonpath('controllerrevision/shop-2', '{.metadata.ownerReferences[0].name}')).toBe('shop-copy');
    expect(await jsonpath('controllerrevision/shop-2', '{.data.spec.containerDefinitions[0].image}')).toBe('busybox:1.40');
  });
});

describe('deregistering one revision with kubectl delete controllerrevision', () => {
  const task = `apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: batch
  namespace: ${namespace}
spec:
  cluster: demo
  taskDefinition: api:1
`;
  const inactive = () => jsonpath('btd/api', '{.status.inactiveRevisions}');

  beforeAll(async () => {
    await kubectlOk(['apply', '-f', '-'], familyManifest('api', 'api', 'busybox:1.36'));
    await eventually(async () => (await jsonpath('btd/api', '{.status.revision}')) === '1', 'api:1');
    await kubectlOk(['apply', '-f', '-'], familyManifest('api', 'api', 'busybox:1.37'));
    await eventually(async () => (await jsonpath('btd/api', '{.status.revision}')) === '2', 'api:2');
  });

  test('a revision a task runs stays INACTIVE, shown by kubectl get, until the task has stopped', async () => {
    await kubectlOk(['apply', '-f', '-'], task);
    // The task controller has seen the task (it is waiting for a cluster that does not exist): so has the shared task cache.
    await eventually(async () => (await jsonpath('task/batch', '{.status.lastStatus}')) !== '', 'the task to be seen');
    await kubectlOk(['delete', 'controllerrevision', 'api-1', '-n', namespace, '--wait=false']);
    await eventually(async () => (await inactive()) === '[1]', 'api:1 INACTIVE');
    expect(await jsonpath('controllerrevision/api-1', '{.metadata.deletionTimestamp}')).not.toBe('');
    expect(await jsonpath('btd/api', '{.status.revision}')).toBe('2');
    const table = await kubectlOk(['get', 'btd', 'api', '-n', namespace]);
    expect(table).toMatch(/FAMILY\s+REVISION\s+STATUS\s+INACTIVE/);
    expect(table).toMatch(/api\s+api\s+2\s+ACTIVE\s+\[1\]/);
    await eventually(async () => (await eventsOf('api', 'RevisionDeregistered', 'message')) !== '', 'the RevisionDeregistered event');
    expect(await eventsOf('api', 'RevisionDeregistered', 'message')).toBe(
      'api:1 is INACTIVE: new services and tasks cannot use it; kept (in use by Task batch)',
    );

    // ECS StopTask: once the task has stopped, nothing holds api:1.
    await kubectlOk(['patch', 'task', 'batch', '-n', namespace, '--type=merge', '-p', '{"spec":{"desiredStatus":"STOPPED"}}']);
    await kubectlOk(['wait', '--for=delete', 'controllerrevision/api-1', '-n', namespace, '--timeout=30s']);
    await eventually(async () => (await inactive()) === '', 'inactiveRevisions to clear');
  });

  test('the latest revision stays INACTIVE and is not registered again; the next spec gets a new number', async () => {
    await kubectlOk(['delete', 'controllerrevision', 'api-2', '-n', namespace, '--wait=false']);
    await eventually(async () => (await inactive()) === '[2]', 'api:2 INACTIVE');
    expect(await registered('api', 'reason')).toBe('RevisionDeregistered');
    expect(await jsonpath('btd/api', '{.status.revision}')).toBe('');
    expect(await revisionNames('api')).toEqual(['controllerrevision.apps/api-2']);

    await kubectlOk(['apply', '-f', '-'], familyManifest('api', 'api', 'busybox:1.38'));
    await eventually(async () => (await jsonpath('btd/api', '{.status.revision}')) === '3', 'api:3');
    await kubectlOk(['wait', '--for=delete', 'controllerrevision/api-2', '-n', namespace, '--timeout=30s']);
    expect(await revisionNames('api')).toEqual(['controllerrevision.apps/api-3']);
    expect(await inactive()).toBe('');
  });

  test('kubectl delete of a revision nothing needs returns once it is gone', async () => {
    await kubectlOk(['apply', '-f', '-'], familyManifest('api', 'api', 'busybox:1.39'));
    await eventually(async () => (await jsonpath('btd/api', '{.status.revision}')) === '4', 'api:4');
    await kubectlOk(['delete', 'controllerrevision', 'api-3', '-n', namespace, '--timeout=30s']);
    expect(await revisionNames('api')).toEqual(['controllerrevision.apps/api-4']);
  });
});
