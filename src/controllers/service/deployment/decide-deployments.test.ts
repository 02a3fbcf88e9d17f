import { decideDeployments } from './decide-deployments';
import { SimulatedService, serviceSpec } from './testing/simulated-service';

const breaker = (rollback: boolean) => serviceSpec({ desiredCount: 4, circuitBreaker: { enable: true, rollback } });

function steady(spec = breaker(true), revision = 'web:1'): SimulatedService {
  const service = new SimulatedService(spec);
  service.reconcile(revision);
  service.settle();
  service.reconcile(revision);
  return service;
}

/** Every task of the new revision fails to launch as soon as it is started. */
function failLaunches(service: SimulatedService, revision: string): void {
  for (const task of service.tasks)
    if (task.taskDefinition === revision && task.health === 'starting') Object.assign(task, { health: 'stopped', failedLaunch: true });
}

describe('decideDeployments', () => {
  it('is idempotent: the same input gives the same decision', () => {
    const service = steady();
    const input = service.input('web:2');
    expect(decideDeployments(input)).toEqual(decideDeployments(input));
  });

  it('never starts a second deployment for the revision it is rolling out', () => {
    const service = steady();
    service.reconcile('web:2');
    const id = service.primary().id;
    const again = service.reconcile('web:2');
    expect(service.deployments!.filter((d) => d.taskDefinition === 'web:2').map((d) => d.id)).toEqual([id]);
    expect(again.effects.filter((e) => e.type === 'recordEvent' && e.reason === 'DeploymentStarted')).toEqual([]);
  });

  it('after a lost status write, decides the same deployment id and counts the tasks it already started', () => {
    const service = steady();
    const before = service.deployments;
    const first = service.reconcile('web:2');
    service.deployments = before; // the status write never happened
    const second = service.reconcile('web:2');
    expect(second.deployments[0].id).toBe(first.deployments[0].id);
    expect(second.deployments[0]).toMatchObject({ pendingCount: 4 });
    expect(second.effects.filter((e) => e.type === 'startTasks')).toEqual([]);
    expect(service.count('starting', 'web:2')).toBe(4);
  });

  it('gives a redeployed revision a new id', () => {
    const service = steady();
    const first = service.primary().id;
    for (const revision of ['web:2', 'web:1']) {
      for (let i = 0; i < 3; i++) {
        service.reconcile(revision);
        service.settle();
      }
    }
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:1', rolloutState: 'COMPLETED' });
    expect(service.primary().id).not.toBe(first);
  });

  it('fails the deployment at the circuit breaker threshold and rolls back to the last COMPLETED revision', () => {
    const service = steady(breaker(true));
    const completedId = service.primary().id;
    let failedAt = 0;
    for (let i = 0; i < 10 && !failedAt; i++) {
      const decision = service.reconcile('web:2');
      if (decision.deployments.some((d) => d.rolloutState === 'FAILED')) failedAt = i;
      failLaunches(service, 'web:2');
    }
    const [rollback, failed, completed] = service.deployments!;
    expect(failed).toMatchObject({
      taskDefinition: 'web:2',
      status: 'ACTIVE',
      rolloutState: 'FAILED',
      failedTasks: 4,
      rolloutStateReason: 'ECS deployment circuit breaker: 4 tasks failed to start (threshold 3).',
    });
    expect(rollback).toMatchObject({
      taskDefinition: 'web:1',
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment circuit breaker: web:2 failed to start; rolling back to web:1.',
    });
    expect(rollback.id).not.toBe(completedId);
    expect(completed).toMatchObject({ id: completedId, status: 'ACTIVE', rolloutState: 'COMPLETED' });

    // The rollback completes, and the spec that still names web:2 does not deploy it again.
    for (let i = 0; i < 5; i++) {
      service.reconcile('web:2');
      service.settle();
    }
    expect(service.deployments!.map((d) => [d.taskDefinition, d.status, d.rolloutState])).toEqual([
      ['web:1', 'PRIMARY', 'COMPLETED'],
      ['web:2', 'INACTIVE', 'FAILED'],
    ]);
    expect(service.count('healthy', 'web:1')).toBe(4);

    // A new revision deploys as usual.
    service.reconcile('web:3');
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:3', rolloutState: 'IN_PROGRESS' });
  });

  it('explains the failure and the rollback in Events and the Progressing condition', () => {
    const service = steady(breaker(true));
    const effects = [];
    for (let i = 0; i < 3; i++) {
      effects.push(...service.reconcile('web:2').effects);
      failLaunches(service, 'web:2');
    }
    const failed = service.deployments!.find((d) => d.rolloutState === 'FAILED')!;
    const reasons = effects.flatMap((e) => (e.type === 'recordEvent' ? [`${e.kind} ${e.reason}`] : []));
    expect(reasons).toEqual(expect.arrayContaining(['Normal DeploymentStarted', 'Warning DeploymentFailed', 'Warning DeploymentRollback']));
    expect(effects).toContainEqual({
      type: 'recordEvent',
      kind: 'Warning',
      reason: 'DeploymentFailed',
      message: `service web deployment ${failed.id} of web:2 FAILED: ECS deployment circuit breaker: 4 tasks failed to start (threshold 3).`,
    });
    const conditions = effects.flatMap((e) => (e.type === 'setCondition' ? [e.condition] : []));
    expect(conditions.at(-1)).toMatchObject({ type: 'Progressing', status: 'True', reason: 'DeploymentInProgress' });
  });

  it('without rollback, a FAILED deployment stops launching and the old tasks keep running', () => {
    const service = steady(breaker(false));
    for (let i = 0; i < 3; i++) {
      service.reconcile('web:2');
      failLaunches(service, 'web:2');
    }
    const decision = service.reconcile('web:2');
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:2', status: 'PRIMARY', rolloutState: 'FAILED' });
    expect(decision.effects.filter((e) => e.type === 'startTasks' || e.type === 'stopTasks')).toEqual([]);
    expect(decision.effects).toContainEqual({
      type: 'setCondition',
      condition: expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'DeploymentFailed' }),
    });
    expect(service.count('healthy', 'web:1')).toBe(4);
  });

  it('without the circuit breaker, keeps replacing failed launches', () => {
    const service = steady(serviceSpec({ desiredCount: 4 }));
    let decision = service.reconcile('web:2');
    for (let i = 0; i < 4; i++) {
      failLaunches(service, 'web:2');
      decision = service.reconcile('web:2');
    }
    expect(service.primary()).toMatchObject({ rolloutState: 'IN_PROGRESS', failedTasks: 16 });
    expect(decision.effects).toContainEqual(expect.objectContaining({ type: 'startTasks', count: 4 }));
  });

  it('keeps counting failed launches when the stopped tasks are gone', () => {
    const service = steady(serviceSpec({ desiredCount: 4 }));
    service.reconcile('web:2');
    failLaunches(service, 'web:2');
    service.reconcile('web:2');
    service.tasks = service.tasks.filter((t) => t.health !== 'stopped');
    service.reconcile('web:2');
    expect(service.primary().failedTasks).toBe(4);
  });

  it('counts every failed launch, even when stopped tasks are pruned to the last 10: desiredCount 100 trips at 50', () => {
    const service = steady(serviceSpec({ desiredCount: 100, circuitBreaker: { enable: true, rollback: false } }));
    let reconciles = 0;
    while (service.primary().rolloutState !== 'FAILED' && reconciles < 100) {
      service.reconcile('web:2');
      reconciles++;
      // Launches fail a few at a time, and the controller keeps only the 10 newest STOPPED tasks.
      let failing = 7;
      for (const task of service.tasks) {
        if (task.taskDefinition === 'web:2' && task.health === 'starting' && failing-- > 0) Object.assign(task, { health: 'stopped', failedLaunch: true });
      }
      const stopped = service.tasks.filter((t) => t.health === 'stopped' && t.counted);
      for (const old of stopped.slice(0, Math.max(0, stopped.length - 10))) service.tasks.splice(service.tasks.indexOf(old), 1);
    }
    const failed = service.deployments!.find((d) => d.taskDefinition === 'web:2')!;
    expect(failed).toMatchObject({ rolloutState: 'FAILED', rolloutStateReason: expect.stringContaining('(threshold 50)') });
    expect(failed.failedTasks).toBeGreaterThanOrEqual(50);
    expect(failed.failedTasks).toBeLessThan(57);
  });

  it('a rollback that fails too ends FAILED: no further rollback, and what runs keeps running', () => {
    const service = steady(breaker(true));
    for (let i = 0; i < 3; i++) {
      service.reconcile('web:2');
      failLaunches(service, 'web:2');
    }
    // The rollback to web:1 starts; now web:1 fails too (e.g. its image is gone).
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:1', rolloutState: 'IN_PROGRESS' });
    for (const task of service.tasks) if (task.health === 'healthy') task.health = 'unhealthy';
    for (let i = 0; i < 20; i++) {
      service.reconcile('web:2');
      failLaunches(service, 'web:1');
      for (const task of service.tasks) if (task.health === 'stopping') task.health = 'stopped';
    }
    const revisions = service.deployments!.map((d) => `${d.taskDefinition} ${d.status} ${d.rolloutState}`);
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:1', rolloutState: 'FAILED' });
    expect(
      service
        .deployments!.filter((d) => d.rolloutState === 'FAILED')
        .map((d) => d.taskDefinition)
        .sort(),
    ).toEqual(['web:1', 'web:2']);
    const decision = service.reconcile('web:2');
    expect(decision.effects.filter((e) => e.type === 'startTasks' || e.type === 'stopTasks' || e.type === 'recordEvent')).toEqual([]);
    expect(service.deployments!.map((d) => `${d.taskDefinition} ${d.status} ${d.rolloutState}`)).toEqual(revisions);
  });

  it('replaces REPLICA tasks on draining instances elsewhere, within the deployment limits', () => {
    const service = steady(serviceSpec({ desiredCount: 4, minimumHealthyPercent: 100, maximumPercent: 200 }));
    service.tasks[0].draining = true;
    service.tasks[1].draining = true;
    let peak = 0;
    let lowest = Infinity;
    for (let i = 0; i < 6; i++) {
      service.reconcile('web:1');
      peak = Math.max(peak, service.count());
      lowest = Math.min(lowest, service.count('healthy'));
      service.settle();
    }
    expect(service.tasks.filter((t) => t.draining).every((t) => t.health === 'stopped')).toBe(true);
    expect(service.count('healthy')).toBe(4);
    expect(peak).toBeLessThanOrEqual(8);
    expect(lowest).toBeGreaterThanOrEqual(4);
    expect(service.primary()).toMatchObject({ rolloutState: 'COMPLETED', status: 'PRIMARY' });
  });

  it('drains at min 50 / max 100 by stopping first, never below the floor', () => {
    const service = steady(serviceSpec({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100 }));
    for (const task of service.tasks) task.draining = true;
    const first = service.reconcile('web:1');
    expect(first.effects.filter((e) => e.type === 'stopTasks')).toEqual([
      { type: 'stopTasks', select: { health: 'healthy', count: 2, draining: true }, reason: 'Container instance is draining: the task is replaced elsewhere' },
    ]);
    for (let i = 0; i < 8; i++) {
      service.settle();
      service.reconcile('web:1');
      expect(service.count()).toBeLessThanOrEqual(4);
      expect(service.count('healthy')).toBeGreaterThanOrEqual(2);
    }
    expect(service.count('healthy')).toBe(4);
    expect(service.tasks.filter((t) => t.health === 'healthy').every((t) => !t.draining)).toBe(true);
  });

  it('when a scale leaves no room to replace a task, replaces nothing and says why', () => {
    const service = steady(serviceSpec({ desiredCount: 1, minimumHealthyPercent: 100, maximumPercent: 100 }));
    const decision = service.reconcile('web:2');
    expect(decision.effects.filter((e) => e.type === 'startTasks' || e.type === 'stopTasks')).toEqual([]);
    expect(decision.effects).toContainEqual({
      type: 'setCondition',
      condition: {
        type: 'Progressing',
        status: 'False',
        reason: 'NoRoomToReplaceTasks',
        message: expect.stringContaining(
          'with desiredCount 1, minimumHealthyPercent 100 keeps 1 healthy and maximumPercent 100 allows 1 at once: no task can be replaced',
        ),
      },
    });
    expect(service.count('healthy', 'web:1')).toBe(1);
  });

  it('drains tasks of a deployment that status no longer lists', () => {
    const service = steady();
    service.tasks.push({ deploymentId: 'ecs-svc/orphan', taskDefinition: 'web:0', health: 'healthy', failedLaunch: false });
    service.reconcile('web:1');
    expect(service.deployments!.find((d) => d.id === 'ecs-svc/orphan')).toMatchObject({ status: 'ACTIVE', taskDefinition: 'web:0' });
    expect(service.count('stopping', 'web:0')).toBe(1);
  });

  it('leaves updatedAt alone while nothing changes', () => {
    const service = steady();
    const before = service.primary().updatedAt;
    service.reconcile('web:1');
    expect(service.primary().updatedAt).toBe(before);
  });

  it('completes a deployment to zero tasks once the old ones are gone', () => {
    const service = steady(serviceSpec({ desiredCount: 0 }), 'web:1');
    expect(service.primary()).toMatchObject({ rolloutState: 'COMPLETED', desiredCount: 0 });
  });
});
