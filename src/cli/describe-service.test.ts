import { serviceLabel, services, tasks, validatorFor, type Service } from '../api';
import { FakeClock } from '../runtime/clock';
import { StoreEventRecorder } from '../runtime/events';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { runDescribeService, type DescribeServiceFlags } from './describe-service';

const namespace = 'shop';

/** Service web with one task of its own, a standalone task, and Events about web, another service, and core's Service web. */
async function storeWithService(clock: FakeClock): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  const web = await store.create<Service>(services, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'web', namespace },
    spec: { cluster: 'demo', taskDefinition: 'web' },
  } as KubeObject as Service);
  const task = (name: string, labels: Record<string, string>, group: string) =>
    store.create(tasks, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name, namespace, labels },
      spec: { cluster: 'demo', taskDefinition: 'web:1', group },
    } as KubeObject);
  await task('web-abc-0', { [serviceLabel]: 'web' }, 'service:web');
  await task('one-off', {}, 'family:web');
  const recorder = new StoreEventRecorder({ store, component: 'berth-operator', clock });
  await recorder.event(web, 'Normal', 'TasksStarted', 'service web has started 1 task of web:1 (deployment d1).');
  await clock.advance(30_000);
  await recorder.event(web, 'Warning', 'TasksUnhealthy', 'service web has stopped 1 task: unhealthy.');
  await recorder.event({ ...web, metadata: { ...web.metadata, name: 'api', uid: 'other' } }, 'Normal', 'TasksStarted', 'about api');
  await recorder.event({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace, uid: 'core' } }, 'Normal', 'Synced', 'a core Service');
  return store;
}

async function describe(store: MemoryStore, clock: FakeClock, flags: Partial<DescribeServiceFlags> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDescribeService({ name: 'web', ...flags }, { out: (l) => out.push(l), err: (l) => err.push(l) }, { store, namespace }, clock);
  return { code, out: out.join('\n'), err };
}

test('reads the service, its own tasks and the Events about it (newest last, aged on the clock)', async () => {
  const clock = new FakeClock(Date.parse('2026-03-02T12:00:00Z'));
  const store = await storeWithService(clock);
  await clock.advance(60_000);
  const { code, out, err } = await describe(store, clock);
  expect({ code, err }).toEqual({ code: 0, err: [] });
  expect(out).toMatch(/^Name: +web\nNamespace: +shop\nCluster: +demo\n/);
  expect(out).toContain('  web-abc-0  web:1');
  expect(out).not.toContain('one-off');
  expect(out).toMatch(
    /Events:\n.*\n.*\n {2}Normal +TasksStarted +90s +berth-operator +service web has started 1 task of web:1 \(deployment d1\)\.\n {2}Warning +TasksUnhealthy +60s +berth-operator +service web has stopped 1 task: unhealthy\.$/,
  );
  expect(out).not.toContain('about api');
  expect(out).not.toContain('a core Service');
});

test('-o json and -o yaml print the Service object', async () => {
  const clock = new FakeClock();
  const store = await storeWithService(clock);
  const json = await describe(store, clock, { output: 'json' });
  expect(JSON.parse(json.out)).toMatchObject({ kind: 'Service', metadata: { name: 'web' }, spec: { taskDefinition: 'web' } });
  expect((await describe(store, clock, { output: 'yaml' })).out).toMatch(/^apiVersion: berth\.dev\/v1alpha1\nkind: Service\n/);
});

test("a service that does not exist: kubectl's NotFound, exit 1", async () => {
  const clock = new FakeClock();
  const store = new MemoryStore({ validatorFor });
  expect(await describe(store, clock, { name: 'nothing' })).toEqual({
    code: 1,
    out: '',
    err: ['Error from server (NotFound): services.berth.dev "nothing" not found'],
  });
});
