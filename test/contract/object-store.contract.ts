import { eventually } from '../../src/runtime/eventually';
import { KubeObject, ObjectStore, ResourceType, StoreError, WatchEvent } from '../../src/store/object-store';

/**
 * The ObjectStore contract: the semantics Berth's controllers rely on, asserted identically
 * against the embedded store (unit project) and a real kube-apiserver (integration project).
 */

export const widgets: ResourceType = {
  group: 'contract.berth.dev',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
  statusSubresource: true,
};

export interface Widget extends KubeObject {
  spec: { size: number; color?: string };
  status?: { phase?: string };
}

/** The CRD behind `widgets`; the embedded store mirrors its one bound with `widgetValidator`. */
export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.contract.berth.dev' },
  spec: {
    group: widgets.group,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer', minimum: 0 }, color: { type: 'string' } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

export const widgetValidator = {
  applyDefaults: (object: KubeObject) => object,
  validate: (object: KubeObject) => {
    const size = (object as Widget).spec?.size;
    return typeof size === 'number' && size < 0 ? [`spec.size: Invalid value: ${size}: spec.size in body should be greater than or equal to 0`] : [];
  },
};

export interface ContractSubject {
  store: ObjectStore;
  /** A namespace that exists and is empty of widgets. */
  namespace: string;
  /** A second existing namespace, for isolation checks. */
  otherNamespace: string;
}

function widget(namespace: string, name: string, size = 1, labels?: Record<string, string>): Widget {
  return { apiVersion: 'contract.berth.dev/v1', kind: 'Widget', metadata: { name, namespace, ...(labels ? { labels } : {}) }, spec: { size } };
}

async function refusal(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected the store to refuse');
}

export function describeObjectStoreContract(adapter: string, subject: () => ContractSubject): void {
  describe(`ObjectStore contract: ${adapter}`, () => {
    let store: ObjectStore;
    let ns: string;
    let counter = 0;
    const uniqueName = (base: string) => `${base}-${++counter}`;

    beforeEach(() => {
      ({ store, namespace: ns } = subject());
    });

    test('create assigns identity, resourceVersion and generation 1; a taken name is AlreadyExists', async () => {
      const name = uniqueName('create');
      const created = await store.create(widgets, widget(ns, name, 3));
      expect(created.metadata).toMatchObject({ name, namespace: ns, generation: 1 });
      expect(created.metadata.uid).toBeTruthy();
      expect(created.metadata.resourceVersion).toBeTruthy();
      expect(created.metadata.creationTimestamp).toBeTruthy();
      expect(await store.get<Widget>(widgets, ns, name)).toMatchObject({ spec: { size: 3 } });
      const taken = await refusal(store.create(widgets, widget(ns, name)));
      expect(taken).toMatchObject({ reason: 'AlreadyExists', code: 409 });
    });

    test('get of a missing object is undefined; update and delete of one are NotFound', async () => {
      expect(await store.get(widgets, ns, 'never-created')).toBeUndefined();
      const missing = { ...widget(ns, 'never-created'), metadata: { name: 'never-created', namespace: ns, resourceVersion: '1' } };
      expect(await refusal(store.update(widgets, missing))).toMatchObject({ reason: 'NotFound', code: 404 });
      expect(await refusal(store.delete(widgets, ns, 'never-created'))).toMatchObject({ reason: 'NotFound' });
    });

    test('update with a stale resourceVersion is a 409 Conflict and changes nothing', async () => {
      const name = uniqueName('conflict');
      const first = await store.create(widgets, widget(ns, name, 1));
      const second = await store.update(widgets, { ...first, spec: { size: 2 } });
      const stale = await refusal(store.update(widgets, { ...first, spec: { size: 9 } }));
      expect(stale).toMatchObject({ reason: 'Conflict', code: 409 });
      expect((await store.get<Widget>(widgets, ns, name))?.spec.size).toBe(2);
      expect(second.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    });

    test('spec changes bump generation; metadata-only changes do not', async () => {
      const name = uniqueName('generation');
      const created = await store.create(widgets, widget(ns, name, 1));
      const relabelled = await store.update(widgets, { ...created, metadata: { ...created.metadata, labels: { tier: 'a' } } });
      expect(relabelled.metadata.generation).toBe(1);
      const resized = await store.update(widgets, { ...relabelled, spec: { size: 5 } });
      expect(resized.metadata.generation).toBe(2);
    });

    test('the status subresource: update ignores status, updateStatus ignores spec and keeps generation', async () => {
      const name = uniqueName('status');
      const created = await store.create<Widget>(widgets, { ...widget(ns, name, 1), status: { phase: 'ignored-on-create' } });
      expect(created.status?.phase).toBeUndefined();
      const updated = await store.update<Widget>(widgets, { ...created, status: { phase: 'ignored' } });
      expect(updated.status?.phase).toBeUndefined();
      const withStatus = await store.updateStatus<Widget>(widgets, { ...updated, spec: { size: 42 }, status: { phase: 'Ready' } });
      expect(withStatus.status?.phase).toBe('Ready');
      expect(withStatus.spec.size).toBe(1);
      expect(withStatus.metadata.generation).toBe(updated.metadata.generation);
      const stale = await refusal(store.updateStatus(widgets, { ...updated, status: { phase: 'Stale' } }));
      expect(stale.reason).toBe('Conflict');
    });

    test('merge patch merges objects and removes fields set to null, on the object and on status', async () => {
      const name = uniqueName('patch');
      await store.create(widgets, { ...widget(ns, name, 1), spec: { size: 1, color: 'red' } });
      const patched = await store.patch<Widget>(widgets, ns, name, { metadata: { labels: { a: 'b' } }, spec: { color: null, size: 4 } });
      expect(patched.spec).toEqual({ size: 4 });
      expect(patched.metadata.labels).toEqual({ a: 'b' });
      expect(patched.metadata.generation).toBe(2);
      const statusPatched = await store.patch<Widget>(widgets, ns, name, { status: { phase: 'Up' } }, 'status');
      expect(statusPatched.status?.phase).toBe('Up');
      expect(statusPatched.metadata.generation).toBe(2);
    });

    test('schema violations are Invalid with the field named, and nothing is stored', async () => {
      const name = uniqueName('invalid');
      const invalid = await refusal(store.create(widgets, widget(ns, name, -1)));
      expect(invalid).toMatchObject({ reason: 'Invalid', code: 422 });
      expect(invalid.causes.join('\n')).toContain('spec.size');
      expect(await store.get(widgets, ns, name)).toBeUndefined();
    });

    test('delete without finalizers removes at once; with finalizers it only sets deletionTimestamp', async () => {
      const plain = uniqueName('delete');
      await store.create(widgets, widget(ns, plain));
      expect(await store.delete(widgets, ns, plain)).toBeUndefined();
      expect(await store.get(widgets, ns, plain)).toBeUndefined();

      const held = uniqueName('finalized');
      await store.create(widgets, { ...widget(ns, held), metadata: { name: held, namespace: ns, finalizers: ['berth.dev/test'] } });
      const deleting = await store.delete<Widget>(widgets, ns, held);
      expect(deleting?.metadata.deletionTimestamp).toBeTruthy();
      const stillThere = await store.get<Widget>(widgets, ns, held);
      expect(stillThere?.metadata.deletionTimestamp).toBeTruthy();
      // Releasing the last finalizer completes the deletion.
      await store.update(widgets, { ...stillThere!, metadata: { ...stillThere!.metadata, finalizers: [] } });
      expect(await store.get(widgets, ns, held)).toBeUndefined();
    });

    test('delete with a uid precondition refuses a different incarnation', async () => {
      const name = uniqueName('precondition');
      await store.create(widgets, widget(ns, name));
      const refused = await refusal(store.delete(widgets, ns, name, { preconditionUid: '00000000-0000-0000-0000-000000000000' }));
      expect(refused.code).toBe(409);
      expect(await store.get(widgets, ns, name)).toBeDefined();
    });

    test('list filters by namespace and label selector, and returns a resourceVersion', async () => {
      const { otherNamespace } = subject();
      const a = uniqueName('list');
      const b = uniqueName('list');
      await store.create(widgets, widget(ns, a, 1, { app: 'web', tier: 'front' }));
      await store.create(widgets, widget(ns, b, 1, { app: 'db' }));
      await store.create(widgets, widget(otherNamespace, uniqueName('list'), 1, { app: 'web' }));
      const web = await store.list<Widget>(widgets, ns, { labelSelector: 'app=web' });
      expect(web.items.map((w) => w.metadata.name)).toEqual([a]);
      expect(web.resourceVersion).toBeTruthy();
      const notWeb = await store.list<Widget>(widgets, ns, { labelSelector: 'app!=web,app' });
      expect(notWeb.items.map((w) => w.metadata.name)).toContain(b);
      expect(notWeb.items.map((w) => w.metadata.name)).not.toContain(a);
      expect(web.items[0]).toMatchObject({ apiVersion: 'contract.berth.dev/v1', kind: 'Widget' });
    });

    test('a paged list, followed page by page, holds every item exactly once', async () => {
      const names = Array.from({ length: 7 }, () => uniqueName('page'));
      for (const name of names) await store.create(widgets, widget(ns, name, 1, { paged: 'yes' }));
      const seen: string[] = [];
      let page = await store.list<Widget>(widgets, ns, { labelSelector: 'paged=yes', limit: 3 });
      seen.push(...page.items.map((w) => w.metadata.name));
      let pages = 1;
      while (page.continue) {
        expect(page.items.length).toBeLessThanOrEqual(3);
        page = await store.list<Widget>(widgets, ns, { labelSelector: 'paged=yes', limit: 3, continue: page.continue });
        seen.push(...page.items.map((w) => w.metadata.name));
        pages++;
      }
      expect(seen.sort()).toEqual([...names].sort());
      expect(pages).toBeLessThanOrEqual(3);
    });

    test('a field selector on metadata.name follows one object through list and watch', async () => {
      const followed = uniqueName('followed');
      const other = uniqueName('other');
      await store.create(widgets, widget(ns, followed, 1));
      await store.create(widgets, widget(ns, other, 1));
      const selected = await store.list<Widget>(widgets, ns, { fieldSelector: `metadata.name=${followed}` });
      expect(selected.items.map((w) => w.metadata.name)).toEqual([followed]);

      const events: WatchEvent<Widget>[] = [];
      const watch = await store.watch<Widget>(
        widgets,
        ns,
        { resourceVersion: selected.resourceVersion, fieldSelector: `metadata.name=${followed}` },
        { onEvent: (e) => events.push(e), onClose: () => undefined },
      );
      try {
        await store.patch(widgets, ns, other, { spec: { size: 5 } });
        await store.patch(widgets, ns, followed, { spec: { size: 2 } });
        await eventually(() => events.length > 0, 'the followed object to change');
        expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([['MODIFIED', followed]]);
      } finally {
        watch.stop();
      }
      const refused = await refusal(store.list(widgets, ns, { fieldSelector: 'spec.size=1' }));
      expect(refused.reason).toBe('Invalid');
    });

    test('watch from a list resourceVersion sees every later change, in order', async () => {
      const name = uniqueName('watch');
      const { resourceVersion } = await store.list(widgets, ns);
      const events: WatchEvent<Widget>[] = [];
      const watch = await store.watch<Widget>(widgets, ns, { resourceVersion }, { onEvent: (e) => events.push(e), onClose: () => undefined });
      try {
        const created = await store.create(widgets, widget(ns, name, 1));
        await store.update(widgets, { ...created, spec: { size: 2 } });
        await store.delete(widgets, ns, name);
        await eventually(() => events.some((e) => e.type === 'DELETED'), 'the DELETED event');
        const mine = events.filter((e) => e.object.metadata.name === name);
        expect(mine.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
        expect(mine[1]?.object.spec.size).toBe(2);
      } finally {
        watch.stop();
      }
    });

    test('a watch from a resourceVersion the store no longer holds is 410 Gone', async () => {
      const watchFromTheStart = store.watch(widgets, ns, { resourceVersion: '1' }, { onEvent: () => undefined, onClose: () => undefined });
      let outcome: unknown;
      try {
        const started = await watchFromTheStart;
        // The API server may accept the request and then end it with an ERROR event instead.
        outcome = await new Promise((resolve) => {
          const timer = setTimeout(() => resolve('no error'), 5_000);
          void store
            .watch(widgets, ns, { resourceVersion: '1' }, { onEvent: () => undefined, onClose: (error) => (clearTimeout(timer), resolve(error)) })
            .then(() => started.stop());
        });
      } catch (error) {
        outcome = error;
      }
      expect(outcome).toBeInstanceOf(StoreError);
      expect((outcome as StoreError).reason).toBe('Gone');
    });
  });
}
