import { KubeConfig } from '@kubernetes/client-node';
import { services } from '../../src/api';
import { KubeStore } from '../../src/store/kube/kube-store';
import { customResourceDefinitions as crds, namespaces } from '../../src/store/builtin-types';
import { KubeObject, isStoreError } from '../../src/store/object-store';
import { describeObjectStoreContract, widgetCrd } from '../contract/object-store.contract';
import { testEnv } from '../env/env';

const config = new KubeConfig();
config.loadFromFile(testEnv().kubeconfig);
const store = new KubeStore(config);
const suffix = Date.now().toString(36);
const namespace = `contract-${suffix}`;
const otherNamespace = `contract-other-${suffix}`;

beforeAll(async () => {
  try {
    await store.create(crds, widgetCrd);
  } catch (error) {
    if (!isStoreError(error, 'AlreadyExists')) throw error;
  }
  await waitForEstablished();
  for (const name of [namespace, otherNamespace]) {
    await store.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
});

afterAll(async () => {
  for (const name of [namespace, otherNamespace]) await store.delete(namespaces, undefined, name).catch(() => undefined);
});

async function waitForEstablished(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const crd = await store.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(crds, undefined, widgetCrd.metadata.name);
    if (crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the contract CRD never became Established');
}

describeObjectStoreContract('kube-apiserver', () => ({ store, namespace, otherNamespace }));

// Without strict field validation the API server drops a field its schema does not declare and accepts the
// rest: a Service with `desiredcount` (a typo) was stored without it, silently.
test('a write with a field the schema does not declare is refused, naming the field', async () => {
  const service = {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'strict', namespace },
    spec: { cluster: 'c', taskDefinition: 'td', desiredcount: 2 },
  };
  const error = await store.create(services, service).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStoreError(error, 'Invalid')).toBe(true);
  expect((error as Error).message).toContain('unknown field "spec.desiredcount"');
});
