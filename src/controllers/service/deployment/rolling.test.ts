import { services, validatorFor, type Service } from '../../../api';
import { emptyTally, hasRoom, planRollingStep, rollingBounds, type TaskTally } from './rolling';

const tally = (counts: Partial<TaskTally>): TaskTally => ({ ...emptyTally, ...counts });

describe('rollingBounds', () => {
  it('rounds the ceiling down and the floor up', () => {
    expect(rollingBounds(4, 50, 100)).toEqual({ ceiling: 4, floor: 2 });
    expect(rollingBounds(5, 50, 150)).toEqual({ ceiling: 7, floor: 3 });
    expect(rollingBounds(3, 34, 133)).toEqual({ ceiling: 3, floor: 2 });
    expect(rollingBounds(0, 100, 200)).toEqual({ ceiling: 0, floor: 0 });
  });

  it('never bends the bounds, and says when they leave no room to replace a task', () => {
    expect(rollingBounds(4, 100, 100)).toEqual({ ceiling: 4, floor: 4 });
    expect(hasRoom(4, rollingBounds(4, 100, 100))).toBe(false);
    expect(rollingBounds(1, 50, 100)).toEqual({ ceiling: 1, floor: 1 });
    expect(hasRoom(1, rollingBounds(1, 50, 100))).toBe(false);
    expect(hasRoom(1, rollingBounds(1, 50, 150))).toBe(false);
    expect(hasRoom(1, rollingBounds(1, 0, 100))).toBe(true);
    expect(hasRoom(1, rollingBounds(1, 50, 200))).toBe(true);
    expect(hasRoom(4, rollingBounds(4, 50, 100))).toBe(true);
    expect(hasRoom(0, rollingBounds(0, 100, 100))).toBe(true);
  });

  it('replaces nothing while the limits leave no room: the old task keeps running', () => {
    const step = planRollingStep({ desiredCount: 1, minimumHealthyPercent: 100, maximumPercent: 100, primary: emptyTally, older: [tally({ healthy: 1 })] });
    expect(step).toMatchObject({ start: 0, stops: [] });
  });
});

describe('the API and rollingBounds', () => {
  const validator = validatorFor(services)!;
  const refuses = (desiredCount: number, minimumHealthyPercent: number, maximumPercent: number) => {
    const service = validator.applyDefaults({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { cluster: 'demo', taskDefinition: 'web', desiredCount, deploymentConfiguration: { minimumHealthyPercent, maximumPercent } },
    } as unknown as Service);
    return validator.validate(service).length > 0;
  };

  it('agree: a new REPLICA service is refused exactly when its limits leave no room to replace a task', () => {
    const disagreements: string[] = [];
    let refused = 0;
    for (let desiredCount = 1; desiredCount <= 8; desiredCount++) {
      for (let minimumHealthyPercent = 0; minimumHealthyPercent <= 100; minimumHealthyPercent++) {
        for (const maximumPercent of [100, 101, 110, 120, 125, 133, 140, 150, 175, 199, 200, 2000]) {
          const lowered = !hasRoom(desiredCount, rollingBounds(desiredCount, minimumHealthyPercent, maximumPercent));
          const refusedHere = refuses(desiredCount, minimumHealthyPercent, maximumPercent);
          if (refusedHere) refused++;
          if (lowered !== refusedHere) disagreements.push(`${desiredCount} ${minimumHealthyPercent}/${maximumPercent}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(refused).toBeGreaterThan(100);
  });
});

describe('planRollingStep', () => {
  const limits = { minimumHealthyPercent: 50, maximumPercent: 100 };

  it('starts a new service up to its desired count', () => {
    expect(planRollingStep({ desiredCount: 3, ...limits, primary: emptyTally, older: [] })).toMatchObject({ start: 3, stops: [] });
  });

  it('scales out and in without a new revision', () => {
    const steady = { minimumHealthyPercent: 100, maximumPercent: 200, older: [] };
    expect(planRollingStep({ desiredCount: 6, ...steady, primary: tally({ healthy: 4 }) })).toMatchObject({ start: 2, stops: [] });
    expect(planRollingStep({ desiredCount: 4, ...steady, primary: tally({ healthy: 5, starting: 1 }) })).toMatchObject({
      start: 0,
      stops: [
        { deployment: 'primary', health: 'starting', count: 1 },
        { deployment: 'primary', health: 'healthy', count: 1 },
      ],
    });
  });

  it('replaces unhealthy tasks even at the floor, and counts them against the ceiling until they are STOPPED', () => {
    const step = planRollingStep({ desiredCount: 4, minimumHealthyPercent: 100, maximumPercent: 100, primary: tally({ healthy: 3, unhealthy: 1 }), older: [] });
    expect(step).toEqual({ bounds: { ceiling: 4, floor: 4 }, start: 0, stops: [{ deployment: 'primary', health: 'unhealthy', count: 1 }] });
    expect(planRollingStep({ desiredCount: 4, minimumHealthyPercent: 100, maximumPercent: 100, primary: tally({ healthy: 3 }), older: [] }).start).toBe(1);
  });

  it('stops old tasks that are not healthy before healthy ones, and older deployments before newer ones', () => {
    // ceiling 4, floor 2: 3 healthy, so 1 healthy may go; the starting one goes regardless.
    const step = planRollingStep({ desiredCount: 4, ...limits, primary: emptyTally, older: [tally({ healthy: 2 }), tally({ healthy: 1, starting: 1 })] });
    expect(step).toMatchObject({
      start: 0,
      stops: [
        { deployment: 1, health: 'starting', count: 1 },
        { deployment: 0, health: 'healthy', count: 1 },
      ],
    });
  });

  it('never stops a healthy task below the floor', () => {
    const step = planRollingStep({
      desiredCount: 4,
      minimumHealthyPercent: 75,
      maximumPercent: 100,
      primary: tally({ starting: 1 }),
      older: [tally({ healthy: 3 })],
    });
    expect(step).toMatchObject({ bounds: { ceiling: 4, floor: 3 }, start: 0, stops: [] });
  });

  it('stops no more old tasks than needed when there is room to start', () => {
    const step = planRollingStep({ desiredCount: 4, minimumHealthyPercent: 0, maximumPercent: 200, primary: emptyTally, older: [tally({ healthy: 4 })] });
    expect(step).toMatchObject({ start: 4, stops: [] });
  });

  it('counts tasks already stopping as the room they will free', () => {
    const step = planRollingStep({ desiredCount: 4, ...limits, primary: emptyTally, older: [tally({ healthy: 2, stopping: 2 })] });
    expect(step).toMatchObject({ start: 0, stops: [] });
  });

  it('drains every old task when the desired count is 0', () => {
    expect(
      planRollingStep({ desiredCount: 0, minimumHealthyPercent: 100, maximumPercent: 200, primary: emptyTally, older: [tally({ healthy: 2, starting: 1 })] }),
    ).toMatchObject({
      start: 0,
      stops: [
        { deployment: 0, health: 'starting', count: 1 },
        { deployment: 0, health: 'healthy', count: 2 },
      ],
    });
  });
});
