import { stopReasonAnnotation, tasks, validatorFor, type Task } from '../api';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { runStopTask } from './stop-task';

const namespace = 'team-a';

async function storeWithTask(): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  await store.create(tasks, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'job-x', namespace },
    spec: { cluster: 'demo', taskDefinition: 'job:1', group: 'family:job' },
  } as KubeObject);
  return store;
}

async function stop(store: MemoryStore, name: string, reason?: string) {
  const lines: string[] = [];
  const code = await runStopTask(
    { name, ...(reason !== undefined && { reason }) },
    { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) },
    { store, namespace },
  );
  return { code, lines };
}

test("ECS StopTask: desiredStatus STOPPED with the user's reason for the agent; asked again, already stopped and the first reason kept", async () => {
  const store = await storeWithTask();
  expect(await stop(store, 'job-x', 'maintenance window')).toEqual({ code: 0, lines: ['task.berth.dev/job-x stopped'] });
  const task = await store.get<Task>(tasks, namespace, 'job-x');
  expect(task?.spec.desiredStatus).toBe('STOPPED');
  expect(task?.metadata.annotations?.[stopReasonAnnotation]).toBe('maintenance window');

  expect(await stop(store, 'job-x', 'another reason')).toEqual({ code: 0, lines: ['task.berth.dev/job-x already stopped'] });
  expect((await store.get<Task>(tasks, namespace, 'job-x'))?.metadata.annotations?.[stopReasonAnnotation]).toBe('maintenance window');
});

test('without --reason: ECS\'s "Task stopped by user"', async () => {
  const store = await storeWithTask();
  await stop(store, 'job-x');
  expect((await store.get<Task>(tasks, namespace, 'job-x'))?.metadata.annotations?.[stopReasonAnnotation]).toBe('Task stopped by user');
});

test("a task that does not exist: kubectl's NotFound, exit 1", async () => {
  const store = await storeWithTask();
  expect(await stop(store, 'nothing')).toEqual({ code: 1, lines: ['ERR Error from server (NotFound): tasks.berth.dev "nothing" not found'] });
});
