import { load } from 'js-yaml';
import { tasks, validatorFor, type Task, type TaskDefinition } from '../api';
import { storedRevision, storedTaskDefinition } from '../ecs/revisions/testing/revisions';
import { controllerRevisions } from '../store/builtin-types';
import { MemoryStore } from '../store/memory/memory-store';
import { runRunTask, type RunTaskFlags } from './run-task';

const namespace = 'team-a';

/** job:1 and job:2 registered, job:3 deregistered (INACTIVE, still stored). */
async function storeWithRevisions(): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  const job: TaskDefinition = storedTaskDefinition('job');
  for (const n of [1, 2, 3]) await store.create(controllerRevisions, storedRevision(job, n));
  await store.delete(controllerRevisions, namespace, 'job-3');
  return store;
}

async function runTask(store: MemoryStore, flags: Partial<RunTaskFlags>) {
  const lines: string[] = [];
  const code = await runRunTask(
    { taskDefinition: 'job', cluster: 'demo', count: 1, ...flags },
    { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) },
    { store, namespace },
  );
  const { items } = await store.list<Task>(tasks, namespace);
  return { code, lines, tasks: items };
}

test('a bare family runs its latest ACTIVE revision: standalone Tasks as the API expects them, a line per task', async () => {
  const store = await storeWithRevisions();
  const { code, lines, tasks: created } = await runTask(store, { count: 3, startedBy: 'cron' });
  expect(code).toBe(0);
  expect(created).toHaveLength(3);
  expect([...lines].sort()).toEqual(created.map((t) => `task.berth.dev/${t.metadata.name} created`));
  for (const task of created) {
    expect(task.metadata.name).toMatch(/^job-[a-z0-9]{5}$/);
    expect(task.spec).toEqual({ cluster: 'demo', taskDefinition: 'job:2', group: 'family:job', startedBy: 'cron', desiredStatus: 'RUNNING' });
  }
});

test('a pinned revision, a launch type, a capacity provider strategy, overrides and a group go into the spec', async () => {
  const store = await storeWithRevisions();
  const overrides = { containerOverrides: [{ name: 'app', command: ['echo', 'hi'] }] };
  const { tasks: created } = await runTask(store, { taskDefinition: 'job:1', launchType: 'FARGATE', overrides, group: 'batch' });
  expect(created[0].spec).toMatchObject({ taskDefinition: 'job:1', launchType: 'FARGATE', overrides, group: 'batch' });
  const strategy = [{ capacityProvider: 'edge', weight: 1, base: 0 }];
  const { tasks: more } = await runTask(store, { capacityProviderStrategy: strategy });
  expect(more.map((t) => t.spec.capacityProviderStrategy)).toContainEqual(strategy);
});

test.each([
  [{ taskDefinition: 'job:9' }, 'ERR error: task definition job:9 not found in namespace team-a'],
  [{ taskDefinition: 'job:3' }, 'ERR error: task definition job:3 is INACTIVE (deregistered): new services and tasks cannot use it in namespace team-a'],
  [{ taskDefinition: 'nothing' }, 'ERR error: no ACTIVE revision of task definition family nothing in namespace team-a'],
  [
    { overrides: { containerOverrides: [{ name: 'sidecar', command: ['x'] }] } },
    'ERR error: overrides.containerOverrides[sidecar]: task definition job:2 has no container named sidecar',
  ],
])('%j is refused before any task is created: exit 1 with why', async (flags, message) => {
  const store = await storeWithRevisions();
  expect(await runTask(store, flags)).toEqual({ code: 1, lines: [message], tasks: [] });
});

test('the API refuses a task (its schema): exit 1 with its message', async () => {
  const store = await storeWithRevisions();
  const { code, lines, tasks: created } = await runTask(store, { overrides: { cpu: 1 } });
  expect({ code, created }).toEqual({ code: 1, created: [] });
  expect(lines).toEqual([expect.stringMatching(/^ERR error: .*spec\.overrides\.cpu/)]);
});

test('-o name, -o json (a List for several), -o yaml', async () => {
  const store = await storeWithRevisions();
  const named = await runTask(store, { output: 'name' });
  expect(named.lines).toEqual([`task.berth.dev/${named.tasks[0].metadata.name}`]);

  const json = await printedBy(store, { count: 2, output: 'json' });
  const list = JSON.parse(json) as { kind: string; items: Task[] };
  expect(list.kind).toBe('List');
  expect(list.items.map((t) => t.spec.taskDefinition)).toEqual(['job:2', 'job:2']);

  expect(load(await printedBy(store, { taskDefinition: 'job:1', output: 'yaml' }))).toMatchObject({ kind: 'Task', spec: { taskDefinition: 'job:1' } });
});

/** What run-task printed on stdout, as one text. */
async function printedBy(store: MemoryStore, flags: Partial<RunTaskFlags>): Promise<string> {
  const { code, lines } = await runTask(store, flags);
  expect(code).toBe(0);
  return lines.join('\n');
}
