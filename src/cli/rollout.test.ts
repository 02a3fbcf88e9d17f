import { PassThrough } from 'node:stream';
import { services, validatorFor, type Service } from '../api';
import { FakeClock } from '../runtime/clock';
import { eventually } from '../runtime/eventually';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { followRollout } from './rollout';

const ns = 'default';

async function serviceWith(store: MemoryStore, deployment: Record<string, unknown> | undefined): Promise<void> {
  const current = await store.get<Service>(services, ns, 'web');
  const base = { id: 'd1', status: 'PRIMARY', taskDefinition: 'web:2', desiredCount: 3, pendingCount: 0, failedTasks: 0 };
  await store.updateStatus(services, {
    ...current!,
    status: { observedGeneration: current!.metadata.generation, deployments: deployment ? [{ ...base, ...deployment }] : [] },
  });
}

/** The embedded store holding Service web (its rollout status is then written by each test). */
async function storeWithService(): Promise<MemoryStore> {
  const store = new MemoryStore({ validatorFor });
  await store.create(services, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: { cluster: 'demo', taskDefinition: 'web' },
  } as KubeObject);
  return store;
}

function terminal(): { stream: NodeJS.WriteStream; text(): string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

test('on a terminal: a progress bar that follows the running tasks, then the COMPLETED line; exit 0', async () => {
  const store = await storeWithService();
  await serviceWith(store, { runningCount: 1, rolloutState: 'IN_PROGRESS' });
  const tty = terminal();
  const lines: string[] = [];
  const following = followRollout(store, ns, 'web', { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), tty: tty.stream }, 10_000);
  await eventually(() => tty.text().includes('1/3 tasks running'), 'the bar at 1/3', { timeoutMs: 5000, intervalMs: 5 });
  await serviceWith(store, { runningCount: 2, rolloutState: 'IN_PROGRESS' });
  await eventually(() => tty.text().includes('2/3 tasks running'), 'the bar at 2/3', { timeoutMs: 5000, intervalMs: 5 });
  await serviceWith(store, { runningCount: 3, rolloutState: 'COMPLETED' });
  expect(await following).toBe(0);
  expect(lines).toEqual(['service web successfully rolled out web:2 (3 tasks running)']);
  expect(tty.text()).toContain('web:2 [');
});

test('FAILED: the reason on stderr, exit 1; a timeout: exit 1 saying where it stood', async () => {
  const store = await storeWithService();
  await serviceWith(store, { runningCount: 0, rolloutState: 'IN_PROGRESS' });
  const lines: string[] = [];
  const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) };
  const clock = new FakeClock();
  const following = followRollout(store, ns, 'web', output, 60_000, clock);
  await eventually(() => lines.length === 1, 'the first line', { timeoutMs: 5000, intervalMs: 5 });
  await clock.advance(60_000);
  expect(await following).toBe(1);
  expect(lines).toEqual([
    'Waiting for service web rollout to finish: 0 of 3 new tasks running...',
    'ERR error: timed out waiting for service web to finish its rollout (Waiting for service web rollout to finish: 0 of 3 new tasks running...)',
  ]);
  lines.length = 0;
  await serviceWith(store, { runningCount: 0, rolloutState: 'FAILED', rolloutStateReason: 'the circuit breaker tripped after 3 failed tasks' });
  expect(await followRollout(store, ns, 'web', output)).toBe(1);
  expect(lines).toEqual(['ERR error: service web rollout to web:2 failed: the circuit breaker tripped after 3 failed tasks']);
});
