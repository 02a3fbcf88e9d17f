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
