// What every fault suite asserts about one finished rollout, from the TaskLedger's history (every Task
// state the API server held), never from Berth's own status:
//   - the ledger saw no violation: every observed state within the bounds, no task name held by two
//     uids, no lifecycle going back, no gap in the watch (task-ledger.ts);
//   - the new revision's tasks were started by one deployment, which created exactly `desiredCount`
//     tasks, ordinals 0..desiredCount-1, each once: nothing duplicated by a restart;
//   - every task of the replaced deployment was stopped by the service scheduler for the new one
//     (stopCode ServiceSchedulerInitiated, "Scaling activity initiated by (deployment <new>)");
//   - of every task ever seen, only tasks of replaced deployments stopped, and only that way: never
//     TaskFailedToStart, EssentialContainerExited or TerminationNotice, which is what a restart that
//     lost track of a task (or its containers) would write.
import type { TaskLedger } from './task-ledger';

/** One deployment of the service, as the ledger saw it: its id and every task it ever created. */
export interface DeploymentTasks {
  id: string;
  uids: string[];
  names: string[];
}

/** The one deployment that started tasks of `revision`, and the tasks it created. */
export function deploymentOf(ledger: TaskLedger, revision: string): DeploymentTasks {
  const created = [...ledger.history.values()].filter((h) => h.taskDefinition === revision);
  const ids = [...new Set(created.map((h) => h.deployment))];
  expect({ revision, deployments: ids }).toEqual({ revision, deployments: [expect.stringMatching(/^ecs-svc\//)] });
  return { id: ids[0], uids: created.map((h) => h.uid), names: created.map((h) => h.name) };
}

/**
 * Asserts the rollout from `previous` to `revision` as described above, and returns the new deployment.
 * `replaced` collects the uids of every deployment replaced so far (the only tasks that may ever stop).
 */
export function expectCleanRollout(
  ledger: TaskLedger,
  options: { previous: DeploymentTasks; revision: string; desiredCount: number; replaced: Set<string> },
): DeploymentTasks {
  const { previous, revision, desiredCount, replaced } = options;
  expect({ violations: ledger.violations, count: ledger.violationCount }).toEqual({ violations: [], count: 0 });

  const current = deploymentOf(ledger, revision);
  const ordinals = current.names.map((name) => Number(name.slice(name.lastIndexOf('-') + 1))).sort((a, b) => a - b);
  expect({ created: current.uids.length, ordinals }).toEqual({ created: desiredCount, ordinals: [...Array(desiredCount).keys()] });

  for (const uid of previous.uids) replaced.add(uid);
  const wrongStops = previous.uids
    .map((uid) => ledger.history.get(uid)!)
    .filter((h) => h.stopCode !== 'ServiceSchedulerInitiated' || h.stoppedReason !== `Scaling activity initiated by (deployment ${current.id})`)
    .map((h) => `${h.name}: ${h.stopCode ?? (h.deleted ? 'deleted, its STOPPED state not observed' : 'not stopped')} ${h.stoppedReason ?? ''}`);
  expect(wrongStops).toEqual([]);
  const stoppedWrongly = [...ledger.history.values()]
    .filter((h) => h.stopCode !== undefined && (h.stopCode !== 'ServiceSchedulerInitiated' || !replaced.has(h.uid)))
    .map((h) => `${h.name} ${h.taskDefinition}: ${h.stopCode} ${h.stoppedReason}`);
  expect(stoppedWrongly).toEqual([]);
  return current;
}
