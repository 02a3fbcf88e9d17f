import type { TaskStatus } from '../../../api';
import { circuitBreakerThreshold, healthCheckFailureReason, isFailedLaunch } from './circuit-breaker';

describe('circuitBreakerThreshold', () => {
  it.each([
    [1, 3],
    [6, 3],
    [7, 4],
    [10, 5],
    [399, 200],
    [1000, 200],
  ])('desired %i → %i failed launches', (desired, threshold) => expect(circuitBreakerThreshold(desired)).toBe(threshold));
});

describe('isFailedLaunch', () => {
  const stopped = (status: Partial<TaskStatus>): TaskStatus => ({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stoppedReason: 'x', ...status });

  it('counts tasks that stopped before they ever ran healthy, by their own fault', () => {
    expect(isFailedLaunch(stopped({ stopCode: 'TaskFailedToStart' }))).toBe(true);
    expect(isFailedLaunch(stopped({ stopCode: 'EssentialContainerExited' }))).toBe(true);
    expect(isFailedLaunch(stopped({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: healthCheckFailureReason }))).toBe(true);
  });

  it('does not count tasks that once ran healthy, tasks stopped by someone, or tasks still running', () => {
    expect(isFailedLaunch(stopped({ stopCode: 'EssentialContainerExited', startedAt: '2024-05-01T10:00:00Z' }))).toBe(false);
    expect(isFailedLaunch(stopped({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)' }))).toBe(
      false,
    );
    expect(isFailedLaunch(stopped({ stopCode: 'UserInitiated' }))).toBe(false);
    expect(isFailedLaunch(stopped({ stopCode: 'TerminationNotice' }))).toBe(false);
    expect(isFailedLaunch({ lastStatus: 'STOPPING', stopCode: 'TaskFailedToStart' })).toBe(false);
    expect(isFailedLaunch(undefined)).toBe(false);
  });
});
