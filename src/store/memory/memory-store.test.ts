import { MemoryStore } from './memory-store';
import { describeObjectStoreContract, widgets, widgetValidator } from '../../../test/contract/object-store.contract';

// A short event history makes "too old resourceVersion" reachable, as etcd compaction does.
const store = new MemoryStore({ eventHistory: 50, validatorFor: (type) => (type === widgets ? widgetValidator : undefined) });
// Push the history window past resourceVersion 1 before the contract runs.
beforeAll(async () => {
  for (let i = 0; i < 60; i++)
    await store.create(widgets, {
      apiVersion: 'contract.berth.dev/v1',
      kind: 'Widget',
      metadata: { name: `filler-${i}`, namespace: 'filler' },
      spec: { size: 0 },
    } as never);
});

describeObjectStoreContract('memory', () => ({ store, namespace: 'contract', otherNamespace: 'contract-other' }));

// The API server checks every object's metadata, not only its name; the embedded store once took any
// labels and unknown metadata fields, so `berth local` accepted manifests the API server refuses.
describe('metadata is refused as the API server refuses it, naming the field', () => {
  const metadataStore = new MemoryStore();
  const widget = (metadata: Record<string, unknown>) =>
    ({ apiVersion: 'contract.berth.dev/v1', kind: 'Widget', metadata: { namespace: 'meta', ...metadata }, spec: { size: 0 } }) as never;
  const refusal = (metadata: Record<string, unknown>) =>
    metadataStore.create(widgets, widget(metadata)).then(
      () => 'accepted',
      (error: Error) => error.message,
    );

  test.each([
    ['a label value over 63 characters', { name: 'w1', labels: { app: 'a'.repeat(64) } }, 'metadata.labels: Invalid value: "aaa'],
    ['a label value with a blank', { name: 'w2', labels: { app: 'bad value' } }, 'metadata.labels: Invalid value: "bad value"'],
    ['a label key that is no qualified name', { name: 'w3', labels: { 'Bad Key!': 'x' } }, 'metadata.labels: Invalid value: "Bad Key!"'],
    ['a label value that is no string', { name: 'w4', labels: { app: 5 } }, 'metadata.labels: Invalid value: 5'],
    ['labels that are no map', { name: 'w5', labels: true }, 'metadata.labels: Invalid value: true'],
    ['an unknown metadata field', { name: 'w6', bogusField: 1 }, 'unknown field "metadata.bogusField"'],
  ])('%s', async (_what, metadata, expected) => {
    expect(await refusal(metadata)).toContain(expected);
  });

  test('a null label value is stored as "", and a prefixed key is taken', async () => {
    const created = await metadataStore.create(widgets, widget({ name: 'w7', labels: { app: null, 'berth.dev/ok': 'yes' } }));
    expect((created as { metadata: { labels: unknown } }).metadata.labels).toEqual({ app: '', 'berth.dev/ok': 'yes' });
  });
});
