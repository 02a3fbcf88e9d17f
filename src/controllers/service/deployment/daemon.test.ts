import { decideDeployments, type DaemonInstanceTasks, type DeploymentEffect } from './decide-deployments';
import { planDaemonStep, type DaemonInstanceState } from './daemon';
import { SimulatedService, serviceSpec } from './testing/simulated-service';
import type { TaskHealth } from './rolling';

const instances = (n: number, state: Omit<DaemonInstanceState, 'instance' | 'eligible'>): DaemonInstanceState[] =>
  Array.from({ length: n }, (_, i) => ({ instance: `i-${i + 1}`, eligible: true, ...state }));

describe('planDaemonStep', () => {
  it('stops old tasks on as many instances as the floor allows, and starts nothing where an old task still runs', () => {
    expect(planDaemonStep(instances(4, { old: 'healthy' }), 50)).toEqual({ floor: 2, startOn: [], stopOldOn: ['i-1', 'i-2'], stopNewOn: [] });
    expect(planDaemonStep(instances(4, { old: 'healthy' }), 0).stopOldOn).toEqual(['i-1', 'i-2', 'i-3', 'i-4']);
  });

  it('starts the new task on an instance once its old one is STOPPED, not while it is stopping', () => {
    const step = planDaemonStep(
      [
        { instance: 'a', eligible: true },
        { instance: 'b', eligible: true, old: 'stopping' },
        { instance: 'c', eligible: true, old: 'healthy' },
      ],
      50,
    );
    expect(step).toEqual({ floor: 2, startOn: ['a'], stopOldOn: [], stopNewOn: [] });
  });

  it('moves one instance at a time when min 100 % would stall', () => {
    expect(planDaemonStep(instances(3, { old: 'healthy' }), 100)).toEqual({ floor: 2, startOn: [], stopOldOn: ['i-1'], stopNewOn: [] });
  });

  it('stops old tasks that are not healthy, and unhealthy new ones, whatever the floor', () => {
    const step = planDaemonStep(
      [
        { instance: 'a', eligible: true, old: 'unhealthy' },
        { instance: 'b', eligible: true, old: 'starting' },
        { instance: 'c', eligible: true, new: 'unhealthy' },
        { instance: 'd', eligible: true, old: 'healthy', new: 'healthy' },
      ],
      100,
    );
    expect(step).toEqual({ floor: 3, startOn: [], stopOldOn: ['a', 'b', 'd'], stopNewOn: ['c'] });
  });

  it('takes the tasks off instances that are no longer eligible, and ignores them in the floor', () => {
    const step = planDaemonStep(
      [
        { instance: 'a', eligible: false, old: 'healthy', new: 'starting' },
        { instance: 'b', eligible: true, new: 'healthy' },
      ],
      100,
    );
    expect(step).toEqual({ floor: 0, startOn: [], stopOldOn: ['a'], stopNewOn: ['a'] });
  });
});

describe('DAEMON rollout through decideDeployments', () => {
  /** One task per instance, by deployment; a test moves them along as agents would. */
  class Daemon {
    readonly tasks = new Map<string, { deploymentId: string; taskDefinition: string; health: TaskHealth | 'stopped' }[]>();
    readonly sim = new SimulatedService(serviceSpec({ schedulingStrategy: 'DAEMON', minimumHealthyPercent: 50, desiredCount: 1 }));
    constructor(names: string[]) {
      for (const name of names) this.tasks.set(name, []);
    }
    reconcile(taskDefinition: string) {
      const instances: DaemonInstanceTasks[] = [...this.tasks].map(([instance, tasks]) => ({
        instance,
        eligible: true,
        tasks: tasks.filter((t) => t.health !== 'stopped').map((t) => ({ deploymentId: t.deploymentId, health: t.health as TaskHealth })),
      }));
      this.sim.tasks = [...this.tasks.values()].flat().map((t) => ({ ...t, failedLaunch: false }));
      const decision = decideDeployments({ ...this.sim.input(taskDefinition), instances });
      this.sim.deployments = decision.deployments;
      for (const effect of decision.effects) this.apply(effect);
      return decision;
    }
    apply(effect: DeploymentEffect) {
      if (effect.type === 'startTasks')
        for (const name of effect.instances!)
          this.tasks.get(name)!.push({ deploymentId: effect.deploymentId, taskDefinition: effect.taskDefinition, health: 'starting' });
      if (effect.type === 'stopTasks' && 'instances' in effect.select) {
        for (const name of effect.select.instances)
          for (const task of this.tasks.get(name)!) if (task.deploymentId === effect.deploymentId) task.health = 'stopping';
      }
    }
    settle() {
      for (const task of [...this.tasks.values()].flat())
        task.health = task.health === 'starting' ? 'healthy' : task.health === 'stopping' ? 'stopped' : task.health;
    }
    healthyInstances() {
      return [...this.tasks.values()].filter((tasks) => tasks.some((t) => t.health === 'healthy')).length;
    }
    live(instance: string) {
      return this.tasks.get(instance)!.filter((t) => t.health !== 'stopped').length;
    }
  }

  it('replaces the task of every instance, never running two on one instance nor leaving fewer than the floor healthy', () => {
    const daemon = new Daemon(['i-1', 'i-2', 'i-3', 'i-4']);
    daemon.reconcile('agent:1');
    daemon.settle();
    daemon.reconcile('agent:1');
    expect(daemon.sim.primary()).toMatchObject({ taskDefinition: 'agent:1', rolloutState: 'COMPLETED', desiredCount: 4 });

    const healthy: number[] = [];
    for (let i = 0; i < 10 && (i === 0 || daemon.sim.primary().rolloutState !== 'COMPLETED'); i++) {
      daemon.reconcile('agent:2');
      healthy.push(daemon.healthyInstances());
      for (const name of daemon.tasks.keys()) expect(daemon.live(name)).toBeLessThanOrEqual(1);
      daemon.settle();
    }
    expect(daemon.sim.primary()).toMatchObject({ taskDefinition: 'agent:2', rolloutState: 'COMPLETED' });
    expect(Math.min(...healthy)).toBe(2);
    expect(
      [...daemon.tasks.values()]
        .flat()
        .filter((t) => t.health === 'healthy')
        .map((t) => t.taskDefinition),
    ).toEqual(Array(4).fill('agent:2'));
  });
});
