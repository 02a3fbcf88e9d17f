/**
 * placement: how many tasks per second the ECS placement engine places, at 1,000 and 5,000 container
 * instances, with the combination services use most: memberOf on the instance type, spread over
 * availability zones, then binpack on memory. Pure CPU work, no store: the engine as the binder calls it.
 *
 * The baseline is the naive engine of the same rules, run on the same instances in the same process:
 * for each task it evaluates the query on every instance, counts the group's tasks per zone from the
 * task list, and sorts the eligible instances by (zone count, memory left). The value is the engine's
 * time per placement; the ratio (engine / naive) shows what the working state saves, and holds on a
 * noisy machine where an absolute time does not. Targets: ≥ 5,000 placements/s (≤ 200 µs each) at
 * 1,000 instances and ≥ 2,000/s (≤ 500 µs) at 5,000.
 */
import { compileClusterQuery, type CompiledClusterQuery, type InstanceFacts } from '../../src/api/cluster-query';
import type { ContainerInstance, Task } from '../../src/api';
import { EcsScheduler, placementCandidates, type BatchRequest, type PlacementCandidate, type PlacementDecision } from '../../src/controllers/placement';
import { placementRequirements } from '../../src/ecs/resources';
import type { BenchCase } from '../support/bench-case';
import { log, round, type Measurement } from '../support/report';

const zones = ['zone-a', 'zone-b', 'zone-c'];
const instanceTypes = ['t3.large', 't3.xlarge', 'm5.large', 'c5.xlarge'];
const expression = 'attribute:ecs.instance-type in [t3.large, t3.xlarge, m5.large] and attribute:ecs.availability-zone != zone-d';
const group = 'service:web';
const spec = {
  networkMode: 'bridge' as const,
  containerDefinitions: [{ name: 'app', image: 'web', essential: true, cpu: 64, memory: 96 }],
};
const request: BatchRequest = {
  requirements: placementRequirements(spec),
  group,
  placementConstraints: [{ type: 'memberOf', expression }],
  placementStrategy: [
    { type: 'spread', field: 'attribute:ecs.availability-zone' },
    { type: 'binpack', field: 'memory' },
  ],
};

function fleet(size: number): { instances: ContainerInstance[]; running: Task[] } {
  const instances = Array.from({ length: size }, (_, i): ContainerInstance => ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: `i-${String(i).padStart(5, '0')}`, namespace: 'bench' },
    spec: {
      cluster: 'bench',
      status: 'ACTIVE',
      attributes: { 'ecs.availability-zone': zones[i % zones.length], 'ecs.instance-type': instanceTypes[(i * 7) % instanceTypes.length] },
      registeredResources: { cpu: 4096, memory: 8192 + 1024 * (i % 8) },
    },
  }));
  // Two tasks of other services on every instance, and one of the placed service on every fifth.
  const running = instances.flatMap((instance, i) =>
    [`service:api-${i % 10}`, `service:worker-${i % 7}`, ...(i % 5 === 0 ? [group] : [])].map((taskGroup, n): Task => ({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name: `t-${i}-${n}`, namespace: 'bench', annotations: { 'berth.dev/admitted': 'true' } },
      spec: { cluster: 'bench', taskDefinition: 'web:1', group: taskGroup, desiredStatus: 'RUNNING', containerInstance: instance.metadata.name },
      status: { lastStatus: 'RUNNING' },
    })),
  );
  return { instances, running };
}

/** The baseline: every rule applied from scratch for every task (full scan, counts from the task list, sort). */
function placeNaively(count: number, candidates: readonly PlacementCandidate[]): PlacementDecision[] {
  const working = candidates.map((c) => ({ ...c, remaining: { ...c.remaining }, tasks: [...c.tasks] }));
  const decisions: PlacementDecision[] = [];
  for (let n = 0; n < count; n++) {
    const query = compiled(expression);
    const perZone = new Map<string | undefined, number>();
    for (const c of working) {
      const zone = c.instance.spec.attributes?.['ecs.availability-zone'];
      perZone.set(zone, (perZone.get(zone) ?? 0) + c.tasks.filter((t) => t.spec.group === group).length);
    }
    const eligible = working.filter(
      (c) => c.remaining.cpu >= request.requirements.cpu && c.remaining.memory >= request.requirements.memory && query.matches(factsOf(c)),
    );
    eligible.sort(
      (a, b) =>
        (perZone.get(a.instance.spec.attributes?.['ecs.availability-zone']) ?? 0) - (perZone.get(b.instance.spec.attributes?.['ecs.availability-zone']) ?? 0) ||
        a.remaining.memory - b.remaining.memory ||
        (a.instance.metadata.name < b.instance.metadata.name ? -1 : 1),
    );
    const chosen = eligible[0];
    if (!chosen) {
      decisions.push({ reason: 'none', code: 'RESOURCE:MEMORY' });
      continue;
    }
    chosen.remaining.cpu -= request.requirements.cpu;
    chosen.remaining.memory -= request.requirements.memory;
    chosen.tasks.push({ ...chosen.tasks[0], spec: { ...chosen.tasks[0].spec, group } });
    decisions.push({ instance: chosen.instance.metadata.name });
  }
  return decisions;
}

function compiled(text: string): CompiledClusterQuery {
  const result = compileClusterQuery(text);
  if (!result.ok) throw new Error(`bench expression does not parse: ${result.error.message}`);
  return result.query;
}

function factsOf(c: PlacementCandidate): InstanceFacts {
  return {
    name: c.instance.metadata.name,
    attributes: c.instance.spec.attributes ?? {},
    runningTasksCount: c.tasks.length,
    agentConnected: true,
    hasTaskOfGroup: (g: string) => c.tasks.some((t) => t.spec.group === g),
    taskGroups: () => c.tasks.flatMap((t) => (t.spec.group ? [t.spec.group] : [])),
  };
}

/** Median of `rounds` timings of `run`, in ms. */
function medianMs(rounds: number, run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function measure(size: number, scale: number): Measurement {
  const { instances, running } = fleet(Math.max(10, Math.round(size * scale)));
  const candidates = placementCandidates(instances, running, () => spec);
  const batch = 2_000;
  const naiveBatch = 200;
  const engineMs = medianMs(5, () => new EcsScheduler().placeBatch(Array<BatchRequest>(batch).fill(request), candidates));
  const naiveMs = medianMs(3, () => placeNaively(naiveBatch, candidates));
  // Same rules, same answers: the baseline is only worth comparing against if it places identically.
  const engine = new EcsScheduler().placeBatch(Array<BatchRequest>(naiveBatch).fill(request), candidates);
  const naive = placeNaively(naiveBatch, candidates);
  if (JSON.stringify(engine.map(nameOf)) !== JSON.stringify(naive.map(nameOf)))
    throw new Error(`the engine and the naive baseline disagree at ${size} instances`);
  const perPlacementUs = round((engineMs * 1000) / batch, 2);
  const naivePerPlacementUs = round((naiveMs * 1000) / naiveBatch, 2);
  log(`placement/${size}: ${perPlacementUs} µs per placement (${round(1e6 / perPlacementUs, 0)}/s), naive ${naivePerPlacementUs} µs`);
  return {
    case: `placement/${size}-instances`,
    value: perPlacementUs,
    unit: 'µs/placement',
    baseline: naivePerPlacementUs,
    baselineIs: 'naive engine: full scan, counts and sort per task, same rules and answers',
    target: { value: { op: '<=', limit: size >= 5_000 ? 500 : 200 }, ratio: { op: '<=', limit: 0.2 } },
    details: {
      instances: instances.length,
      runningTasks: running.length,
      batch,
      placementsPerSecond: round(1e6 / perPlacementUs, 0),
      naiveBatch,
      expression,
      strategy: request.placementStrategy,
    },
  };
}

function nameOf(decision: PlacementDecision): string {
  return 'instance' in decision ? decision.instance : decision.reason;
}

export const placement: BenchCase = {
  name: 'placement',
  timeoutMs: 10 * 60_000,
  run: (context) => Promise.resolve([1_000, 5_000].map((size) => measure(size, context.scale))),
};
