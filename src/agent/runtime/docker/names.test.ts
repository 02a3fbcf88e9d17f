import { containerName, maxNameLength, taskVolumeName } from './names';

describe('Docker object names', () => {
  const task = { namespace: 'team-a', taskName: 'web-7f9c2-1', taskUid: '0b6f3c1e-9a2d-4c5e-8f10-123456789abc' };

  it('names containers berth-<namespace>-<task>-<uid prefix>-<container>', () => {
    expect(containerName(task, 'log_router')).toBe('berth-team-a-web-7f9c2-1-0b6f3c1e-log_router');
    expect(taskVolumeName(task, 'logs')).toBe('berth-team-a-web-7f9c2-1-0b6f3c1e-volume-logs');
  });

  it("gives a task recreated under the same name, or another Berth's task of that name, other containers", () => {
    const recreated = { ...task, taskUid: '7d1e0c44-0000-4000-8000-000000000000' };
    expect(containerName(recreated, 'log_router')).not.toBe(containerName(task, 'log_router'));
  });

  it('keeps long names valid, bounded and distinct', () => {
    const long = { namespace: 'n'.repeat(63), taskName: 't'.repeat(120), taskUid: task.taskUid };
    const a = containerName(long, 'app');
    const b = containerName(long, 'app2');
    expect(a).toHaveLength(maxNameLength);
    expect(a).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    expect(a).not.toBe(b);
    expect(containerName(long, 'app')).toBe(a);
  });
});
