import { seededRandom as prng } from '../../../runtime/seeded-random';
import { hasRoom, rollingBounds } from './rolling';
import { SimulatedService, serviceSpec } from './testing/simulated-service';

/**
 * Random rollouts, reproducible from their seed: any desired count, limits, failure rate and
 * health delay. At every reconcile the ceiling and the floor hold, and every rollout ends: COMPLETED
 * on the new revision, or FAILED by the circuit breaker (and then COMPLETED on the rollback).
 */

interface Scenario {
  seed: number;
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  failureRate: number;
  healthRate: number;
  stopRate: number;
  circuitBreaker: { enable: boolean; rollback: boolean };
}

/** Limits the API accepts: they leave room to replace a task (the API refuses the others). */
function scenario(seed: number): Scenario {
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  let limits: Pick<Scenario, 'desiredCount' | 'minimumHealthyPercent' | 'maximumPercent'>;
  do {
    limits = { desiredCount: int(1, 20), minimumHealthyPercent: int(0, 100), maximumPercent: int(100, 200) };
  } while (!hasRoom(limits.desiredCount, rollingBounds(limits.desiredCount, limits.minimumHealthyPercent, limits.maximumPercent)));
  return {
    seed,
    ...limits,
    failureRate: random() < 0.3 ? 0 : random() * 0.6,
    healthRate: 0.2 + random() * 0.8,
    stopRate: 0.3 + random() * 0.7,
    circuitBreaker: { enable: random() < 0.6, rollback: random() < 0.5 },
  };
}

function play(s: Scenario) {
  const random = prng(s.seed ^ 0x5eed);
  const service = new SimulatedService(serviceSpec(s));
  // ECS's bounds, never bent.
  const { ceiling, floor } = rollingBounds(s.desiredCount, s.minimumHealthyPercent, s.maximumPercent);
  expect(ceiling).toBe(Math.floor((s.maximumPercent * s.desiredCount) / 100));
  expect(floor).toBe(Math.ceil((s.minimumHealthyPercent * s.desiredCount) / 100));

  // Steady on web:1 first: the old revision never fails.
  for (let i = 0; i < 3; i++) {
    service.reconcile('web:1');
    service.settle();
  }
  expect(service.primary().rolloutState).toBe('COMPLETED');
  expect(service.count('healthy', 'web:1')).toBe(s.desiredCount);

  for (let tick = 0; tick < 3000; tick++) {
    service.reconcile('web:2');
    const violation = `seed ${s.seed}, tick ${tick}`;
    if (service.count() > ceiling) throw new Error(`${violation}: ${service.count()} tasks above the ceiling ${ceiling}`);
    if (service.count('healthy') < floor) throw new Error(`${violation}: ${service.count('healthy')} healthy below the floor ${floor}`);

    const primary = service.primary();
    const othersLive = service.tasks.filter((t) => t.health !== 'stopped' && t.deploymentId !== primary.id).length;
    if (primary.rolloutState === 'COMPLETED' && othersLive === 0) return { outcome: 'COMPLETED' as const, service };
    if (primary.rolloutState === 'FAILED') return { outcome: 'FAILED' as const, service };

    // The agents' part: only the new revision fails; tasks fail or turn unhealthy before they are healthy.
    for (const task of service.tasks) {
      if (task.health === 'stopping' && random() < s.stopRate) task.health = 'stopped';
      else if (task.health === 'starting') {
        const roll = random();
        if (task.taskDefinition === 'web:2' && roll < s.failureRate / 2) Object.assign(task, { health: 'stopped', failedLaunch: true });
        else if (task.taskDefinition === 'web:2' && roll < s.failureRate) task.health = 'unhealthy';
        else if (random() < s.healthRate) task.health = 'healthy';
      }
    }
  }
  throw new Error(`seed ${s.seed}: the rollout never ended`);
}

describe('rolling updates under random limits, failures and health delays', () => {
  const scenarios = Array.from({ length: 300 }, (_, i) => scenario(1000 + i));
  const outcomes = new Set<string>();

  it.each(scenarios.map((s) => [s.seed, s] as const))('seed %i keeps the bounds and ends', (_seed, s) => {
    const { outcome, service } = play(s);
    const primary = service.primary();
    const rolledBack = primary.taskDefinition === 'web:1';
    outcomes.add(rolledBack ? 'ROLLED_BACK' : outcome);
    if (outcome === 'COMPLETED') {
      expect(primary.taskDefinition).toBe(rolledBack ? 'web:1' : 'web:2');
      if (rolledBack) expect(service.deployments!.some((d) => d.taskDefinition === 'web:2' && d.rolloutState === 'FAILED')).toBe(true);
      expect(service.count('healthy', primary.taskDefinition)).toBe(s.desiredCount);
    } else {
      expect(s.circuitBreaker.enable).toBe(true);
      expect(primary.failedTasks).toBeGreaterThanOrEqual(3);
    }
  });

  // Runs after the scenarios (jest keeps declaration order within a file).
  it('the scenarios reach every outcome', () => {
    expect([...outcomes].sort()).toEqual(['COMPLETED', 'FAILED', 'ROLLED_BACK']);
  });
});
