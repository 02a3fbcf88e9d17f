import { containerName, maxNameLength, taskVolumeName } from './names';

describe('Docker object names', () => {
  const task = { namespace: 'team-a', taskName: 'web-7f9c2-1' };

  it('names containers berth-<namespace>-<task>-<container>', () => {
    expect(containerName(task, 'log_router')).toBe('berth-team-a-web-7f9c2-1-log_router');
    expect(taskVolumeName(task, 'logs')).toBe('berth-team-a-web-7f9c2-1-volume-logs');
  });

  it('keeps long names valid, bounded and distinct', () => {
    const long = { namespace: 'n'.repeat(63), taskName: 't'.repeat(120) };
    const a = containerName(long, 'app');
    const b = containerName(long, 'app2');
    expect(a).toHaveLength(maxNameLength);
    expect(a).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    expect(a).not.toBe(b);
    expect(containerName(long, 'app')).toBe(a);
  });
});
