import type { Task } from '../../api';
import { nextCapacityProvider, type CapacityProviderStrategy } from './strategy';

/**
 * Chooses the capacity provider of each task of one placement batch. A group's counts (its live tasks
 * per provider) are read once, then kept as each choice is made, so the tasks of a batch continue the
 * split of those already running, as ECS does when a service scales out.
 */
export class CapacityProviderChooser {
  private readonly counts = new Map<string | undefined, Map<string, number>>();

  constructor(private readonly tasksOfGroup: (group: string | undefined) => readonly Task[]) {}

  choose(group: string | undefined, strategy: CapacityProviderStrategy): string {
    let counts = this.counts.get(group);
    if (!counts) {
      counts = new Map();
      for (const task of this.tasksOfGroup(group)) {
        const provider = task.spec.capacityProviderName;
        if (provider !== undefined && task.status?.lastStatus !== 'STOPPED') counts.set(provider, (counts.get(provider) ?? 0) + 1);
      }
      this.counts.set(group, counts);
    }
    const provider = nextCapacityProvider(strategy, counts);
    counts.set(provider, (counts.get(provider) ?? 0) + 1);
    return provider;
  }
}
