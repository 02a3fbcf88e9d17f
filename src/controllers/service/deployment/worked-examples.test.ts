import { SimulatedService, serviceSpec } from './testing/simulated-service';

/**
 * The two rolling updates of ecs-semantics.md, played out reconcile by reconcile through
 * decideDeployments, with the tasks moved along between reconciles as agents would.
 */

function steadyService(spec: ReturnType<typeof serviceSpec>): SimulatedService {
  const service = new SimulatedService(spec);
  service.reconcile('web:1');
  service.settle();
  service.reconcile('web:1');
  expect(service.primary()).toMatchObject({ taskDefinition: 'web:1', rolloutState: 'COMPLETED', runningCount: 4 });
  return service;
}

const snapshot = (service: SimulatedService) => ({
  oldHealthy: service.count('healthy', 'web:1'),
  oldStopping: service.count('stopping', 'web:1'),
  newStarting: service.count('starting', 'web:2'),
  newHealthy: service.count('healthy', 'web:2'),
  notStopped: service.count(),
});

describe('rolling update, min 100 % / max 200 %, 4 tasks', () => {
  it('starts 4 new tasks first, and stops the 4 old ones once the new are healthy', () => {
    const service = steadyService(serviceSpec({ desiredCount: 4, minimumHealthyPercent: 100, maximumPercent: 200 }));

    const first = service.reconcile('web:2');
    expect(first.effects.filter((e) => e.type === 'startTasks' || e.type === 'stopTasks')).toEqual([
      { type: 'startTasks', deploymentId: service.primary().id, taskDefinition: 'web:2', count: 4 },
    ]);
    expect(snapshot(service)).toEqual({ oldHealthy: 4, oldStopping: 0, newStarting: 4, newHealthy: 0, notStopped: 8 });
    expect(service.deployments!.map((d) => [d.taskDefinition, d.status, d.rolloutState])).toEqual([
      ['web:2', 'PRIMARY', 'IN_PROGRESS'],
      ['web:1', 'ACTIVE', 'COMPLETED'],
    ]);

    // While the new tasks start, nothing else happens.
    expect(service.reconcile('web:2').effects.filter((e) => e.type === 'startTasks' || e.type === 'stopTasks')).toEqual([]);

    service.settle();
    service.reconcile('web:2');
    expect(snapshot(service)).toEqual({ oldHealthy: 0, oldStopping: 4, newStarting: 0, newHealthy: 4, notStopped: 8 });

    service.settle();
    const last = service.reconcile('web:2');
    expect(snapshot(service)).toEqual({ oldHealthy: 0, oldStopping: 0, newStarting: 0, newHealthy: 4, notStopped: 4 });
    expect(service.deployments!.map((d) => [d.taskDefinition, d.status, d.rolloutState])).toEqual([
      ['web:2', 'PRIMARY', 'COMPLETED'],
      ['web:1', 'INACTIVE', 'COMPLETED'],
    ]);
    expect(last.effects).toContainEqual({ type: 'recordEvent', kind: 'Normal', reason: 'SteadyState', message: 'service web has reached a steady state.' });
  });
});

describe('rolling update, min 50 % / max 100 %, 4 tasks', () => {
  it('stops 2 old, starts 2 new, then replaces the last 2: never more than 4 tasks nor fewer than 2 healthy', () => {
    const service = steadyService(serviceSpec({ desiredCount: 4, minimumHealthyPercent: 50, maximumPercent: 100 }));
    const steps: ReturnType<typeof snapshot>[] = [];
    const reconcileAndSettle = () => {
      service.reconcile('web:2');
      steps.push(snapshot(service));
      service.settle();
    };
    for (let i = 0; i < 5; i++) reconcileAndSettle();

    expect(steps).toEqual([
      { oldHealthy: 2, oldStopping: 2, newStarting: 0, newHealthy: 0, notStopped: 4 }, // stop 2 old
      { oldHealthy: 2, oldStopping: 0, newStarting: 2, newHealthy: 0, notStopped: 4 }, // start 2 new
      { oldHealthy: 0, oldStopping: 2, newStarting: 0, newHealthy: 2, notStopped: 4 }, // the new are healthy: stop the last 2 old
      { oldHealthy: 0, oldStopping: 0, newStarting: 2, newHealthy: 2, notStopped: 4 }, // start 2 new
      { oldHealthy: 0, oldStopping: 0, newStarting: 0, newHealthy: 4, notStopped: 4 }, // steady
    ]);
    expect(service.primary()).toMatchObject({ taskDefinition: 'web:2', rolloutState: 'COMPLETED', runningCount: 4, pendingCount: 0 });
    for (const step of steps) {
      expect(step.notStopped).toBeLessThanOrEqual(4);
      expect(step.oldHealthy + step.newHealthy).toBeGreaterThanOrEqual(2);
    }
  });
});
