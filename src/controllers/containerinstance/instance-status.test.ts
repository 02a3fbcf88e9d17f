import type { ContainerInstance } from '../../api';
import type { Lease } from '../../runtime/leader-election';
import { instance as instanceOf } from '../../ecs/testing/fixtures';
import { decideInstanceStatus, decideNodeInstanceStatus } from './instance-status';

const connected = (fields: Partial<ContainerInstance> = {}): ContainerInstance => ({
  ...instanceOf('i-1'),
  status: { status: 'ACTIVE', agentConnected: true },
  ...fields,
});
const lease = (renewTime: string, seconds = 40): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'berth-instance-i-1', namespace: 'ns' },
  spec: { renewTime, leaseDurationSeconds: seconds },
});

describe('decideInstanceStatus: an agent with a heartbeat Lease', () => {
  test('renewed 12:00:00 for 40 s: fresh at 12:00:25 (look again in 15 s), lapsed at 12:00:41', () => {
    const fresh = decideInstanceStatus(connected(), lease('2026-12-04T12:00:00.000000Z'), Date.parse('2026-12-04T12:00:25Z'));
    expect(fresh).toMatchObject({ status: { agentConnected: true }, recheckAfterMs: 15_000, events: [] });
    const lapsed = decideInstanceStatus(connected(), lease('2026-12-04T12:00:00.000000Z'), Date.parse('2026-12-04T12:00:41Z'));
    expect(lapsed.status).toMatchObject({ agentConnected: false, lastHeartbeatTime: '2026-12-04T12:00:00Z' });
    expect(lapsed.recheckAfterMs).toBeUndefined();
  });
});

describe('decideNodeInstanceStatus: a Node mirrored as an instance', () => {
  test('connected while the Node is Ready; NotReady disconnects it, with the last heartbeat; Ready again reconnects', () => {
    expect(decideNodeInstanceStatus(connected(), { status: true, heartbeatTime: '2026-12-04T12:00:00Z' }).status.agentConnected).toBe(true);
    const notReady = decideNodeInstanceStatus(connected(), { status: false, heartbeatTime: '2026-12-04T12:00:00Z' });
    expect(notReady.status).toMatchObject({ status: 'ACTIVE', agentConnected: false, lastHeartbeatTime: '2026-12-04T12:00:00Z' });
    expect(notReady.recheckAfterMs).toBeUndefined();
    const back = decideNodeInstanceStatus({ ...connected(), status: { status: 'ACTIVE', agentConnected: false } }, { status: true });
    expect(back.status.agentConnected).toBe(true);
  });

  test('a Node not seen at all (gone, or no Nodes to read) is not connected; DRAINING still follows the spec', () => {
    const drained = connected();
    drained.spec = { ...drained.spec, status: 'DRAINING' };
    expect(decideNodeInstanceStatus(drained, undefined).status).toMatchObject({ status: 'DRAINING', agentConnected: false });
  });
});
