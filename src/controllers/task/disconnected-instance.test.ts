import type { ContainerInstance } from '../../api';
import { disconnectedInstanceVerdict, formatGrace } from './disconnected-instance';

const at = (iso: string) => Date.parse(iso);

function instance(status: ContainerInstance['status'], created = '2026-01-01T11:00:00Z'): ContainerInstance {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: 'edge-1', namespace: 'ns', creationTimestamp: created },
    spec: { cluster: 'prod', registeredResources: { cpu: 1024, memory: 1024 }, status: 'ACTIVE' },
    ...(status ? { status } : {}),
  };
}

const grace = 5 * 60_000;

test('a connected instance, or one not judged yet, keeps its tasks', () => {
  expect(disconnectedInstanceVerdict(instance({ agentConnected: true }), grace, at('2026-01-01T12:10:00Z'))).toEqual({ evict: false });
  expect(disconnectedInstanceVerdict(instance(undefined), grace, at('2026-01-01T12:10:00Z'))).toEqual({ evict: false });
});

test('a disconnected instance keeps its tasks until the grace after its last heartbeat has passed, then they are stopped', () => {
  const silent = instance({ agentConnected: false, lastHeartbeatTime: '2026-01-01T12:00:00Z' });
  // Lease of 40 s: disconnected from 12:00:40; with a grace of 5 m the tasks stop at 12:05:00.
  expect(disconnectedInstanceVerdict(silent, grace, at('2026-01-01T12:00:40Z'))).toEqual({ evict: false, recheckAfterMs: 260_000 });
  expect(disconnectedInstanceVerdict(silent, grace, at('2026-01-01T12:04:59.500Z'))).toEqual({ evict: false, recheckAfterMs: 500 });
  expect(disconnectedInstanceVerdict(silent, grace, at('2026-01-01T12:05:00Z'))).toEqual({
    evict: true,
    reason: 'Task stopped because container instance edge-1 is disconnected: its agent last reported at 2026-01-01T12:00:00Z, more than 5m0s ago',
  });
});

test('an instance that never reported counts from its creation', () => {
  const never = instance({ agentConnected: false });
  expect(disconnectedInstanceVerdict(never, 20_000, at('2026-01-01T11:00:10Z'))).toEqual({ evict: false, recheckAfterMs: 10_000 });
  expect(disconnectedInstanceVerdict(never, 20_000, at('2026-01-01T11:00:20Z'))).toMatchObject({
    evict: true,
    reason: expect.stringContaining('its agent never reported'),
  });
});

test.each([
  [300_000, '5m0s'],
  [90_000, '1m30s'],
  [20_000, '20s'],
  [1_500, '1.5s'],
])('%d ms reads %s', (ms, text) => {
  expect(formatGrace(ms)).toBe(text);
});
