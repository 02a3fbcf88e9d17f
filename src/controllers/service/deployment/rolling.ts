/**
 * One step of an ECS rolling update, as pure arithmetic (the counterpart of Kubernetes'
 * pkg/controller/deployment/rolling.go). The service controller calls it on every reconcile with
 * what its tasks look like now; it answers how many tasks of the PRIMARY deployment to start and
 * which tasks to stop. Because it only ever looks at the present counts, the same function drives
 * a new revision, a scale-out, a scale-in and the replacement of failed tasks.
 *
 * The two bounds, with D the desired count:
 *
 *   ceiling = floor(maximumPercent × D / 100)   tasks that are not STOPPED (RUNNING or PENDING, and
 *                                               also those still stopping: their containers still
 *                                               hold CPU, memory and ports until STOPPED)
 *   floor   = ceil(minimumHealthyPercent × D / 100)   RUNNING-and-healthy tasks, of any deployment
 *
 * e.g. D = 4, min 50 %, max 100 %:  ceiling = floor(400 / 100) = 4, floor = ceil(200 / 100) = 2.
 *      D = 5, min 50 %, max 150 %:  ceiling = floor(750 / 100) = 7, floor = ceil(250 / 100) = 3.
 *
 * A step, in order:
 *
 * 1. Stop every unhealthy task (failed its health checks past the grace period), old or new. An
 *    unhealthy task never counts toward the floor, so stopping it can never break it; ECS replaces
 *    unhealthy tasks whatever the limits.
 * 2. Scale-in: if the PRIMARY has more live tasks than D, stop the surplus, not-yet-healthy first.
 *    e.g. D 6 → 4 with 5 healthy and 1 starting: stop the starting one and 1 healthy.
 * 3. Start new tasks up to D, as far as the ceiling allows:
 *      start = min(D − live PRIMARY tasks, ceiling − all tasks not STOPPED)
 *    e.g. min 100 / max 200, D = 4, 4 old healthy: start = min(4 − 0, 8 − 4) = 4.
 * 4. Stop old tasks, but only as many as needed, for one of two reasons:
 *    - replaced: new healthy tasks stand in for them. Old tasks beyond D − (new healthy) are surplus:
 *        replaced = old live − max(0, D − new healthy)
 *      e.g. D = 4 with 4 new healthy: 4 old − max(0, 4 − 4) = 4 replaced.
 *    - room: the ceiling keeps new tasks from starting. Each old task stopped frees a slot once it is
 *      STOPPED; tasks already on their way out will free theirs, so they are subtracted:
 *        room = (D − live PRIMARY tasks − start) − tasks already stopping
 *      e.g. min 50 / max 100, D = 4, 4 old healthy: start = min(4, 4 − 4) = 0, room = 4 − 0 = 4.
 *    and never below the floor: healthy old tasks may only go while healthy − floor > 0. Old tasks
 *    that are not healthy yet may always go (they do not count toward the floor): they go first, and
 *    older deployments go before newer ones.
 *      e.g. min 50 / max 100, D = 4, 4 old healthy: min(room 4, 4 healthy − floor 2) = 2 stopped.
 *
 * Worked example 1 (ecs-semantics.md): min 100 %, max 200 %, 4 tasks → ceiling 8, floor 4.
 *   step 1: 4 old healthy.  start = min(4, 8 − 4) = 4; replaced = 4 − (4 − 0) = 0; room = 4 − 4 = 0.
 *           → start 4 new.                                 8 tasks: 4 old healthy, 4 new starting
 *   step 2: the new ones are not healthy yet: start = min(0, 0) = 0; replaced = 0; room = 0.
 *           → nothing.                                     (waits here as long as they start)
 *   step 3: 4 new healthy. replaced = 4 − (4 − 4) = 4; healthy 8 − floor 4 = 4 may go.
 *           → stop 4 old.                                  8 tasks: 4 new healthy, 4 old stopping
 *   step 4: the old ones are STOPPED.                       4 tasks: 4 new healthy. Done.
 *
 * Worked example 2 (ecs-semantics.md): min 50 %, max 100 %, 4 tasks → ceiling 4, floor 2.
 *   step 1: 4 old healthy.  start = min(4, 4 − 4) = 0; room = 4 − 0 − 0 = 4; healthy 4 − floor 2 = 2.
 *           → stop 2 old.                                  4 tasks: 2 old healthy, 2 old stopping
 *   step 2: the 2 are STOPPED. start = min(4, 4 − 2) = 2; room = 2 − 0 = 2, but 2 healthy − 2 = 0.
 *           → start 2 new.                                 4 tasks: 2 old healthy, 2 new starting
 *   step 3: the 2 new are healthy. start = min(2, 4 − 4) = 0; replaced = 2 − (4 − 2) = 0;
 *           room = 2; healthy 4 − floor 2 = 2.
 *           → stop the last 2 old.                         4 tasks: 2 new healthy, 2 old stopping
 *   step 4: the 2 are STOPPED. start = min(2, 4 − 2) = 2.
 *           → start 2 new.                                 4 tasks: 2 new healthy, 2 new starting
 *   step 5: all 4 new healthy. Done. Never more than 4 tasks, never fewer than 2 healthy.
 *
 * When the limits leave no way forward — no room above D and no slack below it, e.g. min 100 / max
 * 100 (floor = ceiling = D), or D = 1 with min 50 / max 100 (floor = ceil(0.5) = 1 = ceiling) — no
 * old task can ever be replaced. ECS sits still, and so does Berth: the bounds are never bent. The API
 * refuses such limits when a service is created or its deploymentConfiguration changes (as Kubernetes
 * refuses maxSurge 0 with maxUnavailable 0); a later scale can still get there, and then `hasRoom`
 * tells the service controller to explain in a condition why the deployment cannot proceed.
 */

/** How the tasks of one deployment stand; a task that is STOPPED counts nowhere. */
export interface TaskTally {
  /** RUNNING and healthy. */
  healthy: number;
  /** Not healthy yet: PROVISIONING..ACTIVATING, or failing health checks within the grace period. */
  starting: number;
  /** Failing health checks past the grace period: to be replaced. */
  unhealthy: number;
  /** Asked to stop and not STOPPED yet: still holding resources, so still under the ceiling. */
  stopping: number;
}

export type TaskHealth = keyof TaskTally;

export const emptyTally: TaskTally = { healthy: 0, starting: 0, unhealthy: 0, stopping: 0 };

export interface RollingBounds {
  /** Tasks that are not STOPPED may never exceed this. */
  ceiling: number;
  /** RUNNING-and-healthy tasks may never be stopped below this. */
  floor: number;
}

export interface RollingStepInput {
  desiredCount: number;
  minimumHealthyPercent: number;
  maximumPercent: number;
  /** The newest deployment: the one that is started. */
  primary: TaskTally;
  /** Every older deployment that still has tasks, oldest first. */
  older: TaskTally[];
}

/** `count` tasks of one deployment, of one kind: 'primary' or an index into `older`. */
export interface TaskStops {
  deployment: 'primary' | number;
  health: Exclude<TaskHealth, 'stopping'>;
  count: number;
}

export interface RollingStep {
  bounds: RollingBounds;
  /** New tasks of the PRIMARY deployment to start. */
  start: number;
  /** Tasks to stop, in the order to stop them. */
  stops: TaskStops[];
}

export function rollingBounds(desiredCount: number, minimumHealthyPercent: number, maximumPercent: number): RollingBounds {
  const ceiling = Math.floor((maximumPercent * desiredCount) / 100);
  const floor = Math.ceil((minimumHealthyPercent * desiredCount) / 100);
  return { ceiling, floor };
}

/**
 * Whether a task can ever be replaced within the bounds: a surge above D (ceiling > D) or slack below
 * it (floor < D). e.g. D 4, 100 / 200: ceiling 8 > 4, room. D 4, 50 / 100: floor 2 < 4, room.
 * D 1, 50 / 100: ceiling 1, floor 1: none. D 0 needs no room.
 */
export function hasRoom(desiredCount: number, bounds: RollingBounds): boolean {
  return desiredCount === 0 || bounds.ceiling > desiredCount || bounds.floor < desiredCount;
}

export function planRollingStep(input: RollingStepInput): RollingStep {
  const { desiredCount, primary, older } = input;
  const bounds = rollingBounds(desiredCount, input.minimumHealthyPercent, input.maximumPercent);
  const stops: TaskStops[] = [];
  const stop = (deployment: TaskStops['deployment'], health: TaskStops['health'], count: number) => {
    if (count > 0) stops.push({ deployment, health, count });
    return count;
  };

  // 1. Unhealthy tasks go, whatever the limits: they do not count toward the floor.
  const olderFirst = older.map((tally, index) => ({ tally, index })).filter(({ tally }) => tally.healthy + tally.starting + tally.unhealthy > 0);
  let leaving = stop('primary', 'unhealthy', primary.unhealthy);
  for (const { tally, index } of olderFirst) leaving += stop(index, 'unhealthy', tally.unhealthy);

  // 2. Scale-in of the PRIMARY: the surplus goes, tasks that are not healthy yet first.
  const surplus = Math.max(0, primary.healthy + primary.starting - desiredCount);
  const surplusStarting = stop('primary', 'starting', Math.min(surplus, primary.starting));
  const surplusHealthy = stop('primary', 'healthy', surplus - surplusStarting);
  leaving += surplus;

  // 3. Start up to D, within the ceiling. Every task not STOPPED counts, those stopping too.
  const all = [primary, ...older];
  const notStopped = all.reduce((sum, t) => sum + t.healthy + t.starting + t.unhealthy + t.stopping, 0);
  const primaryLive = primary.healthy + primary.starting - surplus;
  const missing = desiredCount - primaryLive;
  const start = Math.max(0, Math.min(missing, bounds.ceiling - notStopped));

  // 4. Old tasks go only as far as needed: replaced by new healthy ones, or to make room.
  const newHealthy = primary.healthy - surplusHealthy;
  const oldLive = older.reduce((sum, t) => sum + t.healthy + t.starting, 0);
  const replaced = oldLive - Math.max(0, desiredCount - newHealthy);
  const alreadyStopping = all.reduce((sum, t) => sum + t.stopping, 0) + leaving;
  const room = missing - start - alreadyStopping;
  let needed = Math.min(oldLive, Math.max(0, replaced, room));

  const healthy = newHealthy + older.reduce((sum, t) => sum + t.healthy, 0);
  let healthyToSpare = Math.max(0, healthy - bounds.floor);
  for (const { tally, index } of olderFirst) needed -= stop(index, 'starting', Math.min(needed, tally.starting));
  for (const { tally, index } of olderFirst) {
    const count = stop(index, 'healthy', Math.min(needed, tally.healthy, healthyToSpare));
    needed -= count;
    healthyToSpare -= count;
  }

  return { bounds, start, stops };
}
