import { tasks, validatorFor, type Task } from '..';

const validator = validatorFor(tasks)!;

function task(spec: Record<string, unknown>, status?: Record<string, unknown>): Task {
  return validator.applyDefaults({ apiVersion: 'berth.dev/v1alpha1', kind: 'Task', metadata: { name: 't' }, spec, status } as unknown as Task);
}

describe('Task', () => {
  const unbound = task({ cluster: 'demo', taskDefinition: 'web:1' });
  const bound = task({ cluster: 'demo', taskDefinition: 'web:1', containerInstance: 'ci-1' });

  it('is bound to a container instance once', () => {
    expect(validator.validate(bound, unbound)).toEqual([]);
    expect(validator.validate(task({ cluster: 'demo', taskDefinition: 'web:1', containerInstance: 'ci-2' }), bound)).toEqual([
      'spec.containerInstance: Invalid value: "object": containerInstance cannot change once set',
    ]);
  });

  it('runs with launchType EC2, the one launch type Berth implements', () => {
    expect(validator.validate(task({ cluster: 'demo', taskDefinition: 'web:1', launchType: 'EC2' }))).toEqual([]);
  });

  it('keeps its revision', () => {
    expect(validator.validate(task({ cluster: 'demo', taskDefinition: 'web:2' }), unbound)).toEqual([
      'spec.taskDefinition: Invalid value: "string": taskDefinition is immutable',
    ]);
  });

  it('takes RFC 3339 timestamps in status', () => {
    expect(validator.validate(task({ cluster: 'demo', taskDefinition: 'web:1' }, { startedAt: '2025-01-01T00:00:00Z' }))).toEqual([]);
    expect(validator.validate(task({ cluster: 'demo', taskDefinition: 'web:1' }, { startedAt: 'yesterday' }))).toEqual([
      'status.startedAt: Invalid value: "yesterday": startedAt in body must be of type date-time: "yesterday"',
    ]);
  });
});
