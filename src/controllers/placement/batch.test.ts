import { admittedAnnotation, type Task, type TaskDefinitionSpec } from '../../api';
import { seededRandom } from '../../agent/runtime/simulated/seeded-random';
import { placeBatch, type BatchRequest } from './batch';
import { FirstFitScheduler } from './first-fit';
import { placementCandidates, type PlacementDecision } from './scheduler';
import { taskRequirements } from './task-requirements';
import { container, instance, taskSpec } from './testing/fixtures';

const scheduler = new FirstFitScheduler();

function pendingTask(name: string, taskDefinition: string, group?: string): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns' },
    spec: { cluster: 'demo', taskDefinition, desiredStatus: 'RUNNING', ...(group ? { group } : {}) },
  };
}

function request(task: Task, spec: TaskDefinitionSpec, distinct = false): BatchRequest {
  return {
    task,
    requirements: taskRequirements(spec),
    group: task.spec.group,
    placementConstraints: distinct ? [{ type: 'distinctInstance' }] : [],
    placementStrategy: [],
  };
}

describe('placeBatch', () => {
  test('charges each placement before the next: 3 tasks of 512 MiB on two instances of 1024 MiB', () => {
    const spec = taskSpec([container('app', { memory: 512 })]);
    const instances = [instance('i-a', { memory: 1024 }), instance('i-b', { memory: 1024 })];
    const candidates = placementCandidates(instances, [], () => spec);
    const tasks = ['t0', 't1', 't2', 't3', 't4'].map((n) => pendingTask(n, 'web:1'));
    expect(
      placeBatch(
        scheduler,
        tasks.map((t) => request(t, spec)),
        candidates,
      ),
    ).toEqual([{ instance: 'i-a' }, { instance: 'i-a' }, { instance: 'i-b' }, { instance: 'i-b' }, { reason: 'RESOURCE:MEMORY' }]);
    expect(candidates[0].remaining.memory).toBe(1024);
  });

  test('static host ports and distinctInstance see the tasks placed earlier in the batch', () => {
    const spec = taskSpec([container('app', { memory: 64, portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] })]);
    const candidates = placementCandidates([instance('i-a'), instance('i-b')], [], () => spec);
    const tasks = ['t0', 't1', 't2'].map((n) => pendingTask(n, 'web:1'));
    expect(
      placeBatch(
        scheduler,
        tasks.map((t) => request(t, spec)),
        candidates,
      ),
    ).toEqual([{ instance: 'i-a' }, { instance: 'i-b' }, { reason: 'RESOURCE:PORTS' }]);

    const small = taskSpec([container('app', { memory: 64 })]);
    const grouped = ['g0', 'g1', 'g2'].map((n) => pendingTask(n, 'web:1', 'service:web'));
    const fresh = placementCandidates([instance('i-a'), instance('i-b')], [], () => small);
    expect(
      placeBatch(
        scheduler,
        grouped.map((t) => request(t, small, true)),
        fresh,
      ),
    ).toEqual([{ instance: 'i-a' }, { instance: 'i-b' }, { reason: 'CONSTRAINT:distinctInstance' }]);
  });

  test('gives the same result as placing one by one, for random tasks and instances', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seededRandom(seed);
      const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
      const specs = Array.from({ length: 4 }, (_, i) =>
        taskSpec([
          container(`c${i}`, {
            cpu: int(0, 1024),
            memory: int(16, 2048),
            portMappings: random() < 0.3 ? [{ containerPort: 80, hostPort: int(8000, 8003), protocol: 'tcp' }] : [],
          }),
        ]),
      );
      const instances = Array.from({ length: int(1, 6) }, (_, i) => instance(`i-${i}`, { cpu: int(512, 4096), memory: int(512, 8192) }));
      const tasks = Array.from({ length: int(1, 30) }, (_, i) => ({
        task: pendingTask(`t${i}`, `s${i % 4}:1`, random() < 0.5 ? 'service:a' : 'service:b'),
        spec: specs[i % 4],
      }));
      const specOf = (t: Task) => specs[Number(t.spec.taskDefinition.slice(1, 2))];
      const distinct = random() < 0.3;

      const batch = placeBatch(
        scheduler,
        tasks.map(({ task, spec }) => request(task, spec, distinct)),
        placementCandidates(instances, [], specOf),
      );
      const placed: Task[] = [];
      const oneByOne: PlacementDecision[] = tasks.map(({ task, spec }) => {
        const decision = scheduler.place({ ...request(task, spec, distinct), candidates: placementCandidates(instances, placed, specOf) });
        if ('instance' in decision) {
          placed.push({
            ...task,
            metadata: { ...task.metadata, annotations: { [admittedAnnotation]: 'true' } },
            spec: { ...task.spec, containerInstance: decision.instance },
          });
        }
        return decision;
      });
      expect({ seed, decisions: batch }).toEqual({ seed, decisions: oneByOne });
    }
  });
});

describe('placeBatch with tasks bound at creation', () => {
  test('a pinned task goes to its own instance if it fits there, and is charged for the rest of the batch', () => {
    const spec = taskSpec([container('app', { memory: 512 })]);
    const candidates = placementCandidates([instance('i-a', { memory: 1024 }), instance('i-b', { memory: 1024 })], [], () => spec);
    const daemon = (name: string, on: string): BatchRequest => ({ ...request(pendingTask(name, 'web:1'), spec), pinnedTo: on });
    expect(
      placeBatch(
        scheduler,
        [daemon('d0', 'i-b'), daemon('d1', 'i-b'), daemon('d2', 'i-b'), request(pendingTask('t0', 'web:1'), spec), daemon('d3', 'i-z')],
        candidates,
      ),
    ).toEqual([{ instance: 'i-b' }, { instance: 'i-b' }, { reason: 'RESOURCE:MEMORY' }, { instance: 'i-a' }, { reason: 'container instance i-z not found' }]);
  });
});
