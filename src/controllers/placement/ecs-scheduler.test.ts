import fc from 'fast-check';
import { admittedAnnotation, type ContainerInstance, type Task, type TaskDefinitionSpec } from '../../api';
import { seededRandom } from '../../runtime/seeded-random';
import { EcsScheduler } from './ecs-scheduler';
import { placementCandidates, type BatchRequest, type PlacementConstraint, type PlacementDecision, type PlacementStrategy } from './scheduler';
import { placementRequirements } from '../../ecs/resources/task-requirements';
import { boundTask, container, instance, taskSpec } from '../../ecs/testing/fixtures';

function pendingTask(name: string, taskDefinition: string, group?: string): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns' },
    spec: { cluster: 'demo', taskDefinition, desiredStatus: 'RUNNING', ...(group ? { group } : {}) },
  };
}

function host(
  name: string,
  attributes: Record<string, string>,
  resources: { cpu?: number; memory?: number } = {},
  fields: Partial<ContainerInstance['spec']> = {},
): ContainerInstance {
  const base = instance(name, resources);
  return { ...base, spec: { ...base.spec, attributes, ...fields } };
}

const app = (memory: number, cpu = 0, hostPort?: number) =>
  taskSpec([container('app', { memory, cpu, portMappings: hostPort ? [{ containerPort: 80, hostPort, protocol: 'tcp' }] : [] })]);

function request(
  spec: TaskDefinitionSpec,
  fields: { group?: string; constraints?: PlacementConstraint[]; strategy?: PlacementStrategy[]; pinnedTo?: string; capacityProvider?: string } = {},
): BatchRequest {
  return {
    requirements: placementRequirements(spec),
    group: fields.group ?? 'service:web',
    placementConstraints: fields.constraints ?? [],
    placementStrategy: fields.strategy ?? [{ type: 'binpack', field: 'memory' }],
    ...(fields.pinnedTo ? { pinnedTo: fields.pinnedTo } : {}),
    ...(fields.capacityProvider ? { capacityProvider: fields.capacityProvider } : {}),
  };
}

const instancesOf = (decisions: PlacementDecision[]) => decisions.map((d) => ('instance' in d ? d.instance : d.code));

describe('EcsScheduler: the instances a task may use', () => {
  const scheduler = new EcsScheduler();

  test('skips instances short of CPU, memory or a static host port, and those draining, disconnected or inactive', () => {
    const spec = app(512, 256, 8080);
    const instances = [
      host('i-1', {}, { memory: 256 }),
      host('i-2', {}, { cpu: 128 }),
      host('i-3', {}, {}, { status: 'DRAINING' }),
      { ...host('i-4', {}), status: { agentConnected: false } },
      { ...host('i-5', {}), status: { status: 'INACTIVE' as const } },
      host('i-6', {}),
      host('i-7', {}),
    ];
    const busy = boundTask('t-0', 'web:1', 'i-6');
    const candidates = placementCandidates(instances, [busy], () => spec);
    expect(instancesOf(scheduler.placeBatch([request(spec), request(spec)], candidates))).toEqual(['i-7', 'RESOURCE:MEMORY']);
  });

  test('a Node takes only what a Pod can express, and a host path only where its group allows it; the wait says why', () => {
    const docker = host('docker-1', {});
    const node = host('node-1', {}, {}, { nodeName: 'node-1' });
    const nodeWithPaths = host('node-2', { 'berth.dev/host-paths': 'allowed' }, {}, { nodeName: 'node-2' });
    const withUlimits = taskSpec([container('app', { memory: 64, ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }] })]);
    expect(
      instancesOf(
        scheduler.placeBatch(
          [request(withUlimits)],
          placementCandidates([node, docker], [], () => withUlimits),
        ),
      ),
    ).toEqual(['docker-1']);
    const waiting = scheduler.placeBatch(
      [request(withUlimits)],
      placementCandidates([node], [], () => withUlimits),
    )[0];
    expect(waiting).toEqual({
      code: 'DATAPLANE',
      reason:
        'no container instance met all of its requirements. The closest matching container-instance node-1 cannot run the task as a Pod (spec.containerDefinitions[0].ulimits: Kubernetes sets no per-container ulimits). Of 1 instance: 1 Nodes that cannot run it.',
    });
    const hostPath = taskSpec([container('app', { memory: 64 })], { volumes: [{ name: 'logs', host: { sourcePath: '/var/log' } }] });
    expect(
      instancesOf(
        scheduler.placeBatch(
          [request(hostPath)],
          placementCandidates([node, nodeWithPaths], [], () => hostPath),
        ),
      ),
    ).toEqual(['node-2']);
    expect(
      instancesOf(
        scheduler.placeBatch(
          [request(app(64))],
          placementCandidates([node], [], () => app(64)),
        ),
      ),
    ).toEqual(['node-1']);
  });

  test('a pinned task goes to its own instance only, and one naming a capacity provider to that node group only', () => {
    const spec = app(512);
    const instances = [host('i-a', {}, { memory: 1024 }, { nodeGroup: 'blue' }), host('i-b', {}, { memory: 1024 }, { nodeGroup: 'green' })];
    const candidates = placementCandidates(instances, [], () => spec);
    const decisions = scheduler.placeBatch(
      [
        request(spec, { pinnedTo: 'i-b' }),
        request(spec, { pinnedTo: 'i-b' }),
        request(spec, { pinnedTo: 'i-b' }),
        request(spec, { capacityProvider: 'blue' }),
        request(spec, { capacityProvider: 'red' }),
        request(spec, { pinnedTo: 'i-z' }),
      ],
      candidates,
    );
    expect(instancesOf(decisions)).toEqual(['i-b', 'i-b', 'RESOURCE:MEMORY', 'i-a', 'NoContainerInstances', 'NoContainerInstances']);
    expect(decisions[4]).toEqual({ reason: 'No Container Instances were found in capacity provider red', code: 'NoContainerInstances' });
    expect(decisions[5]).toEqual({ reason: 'container instance i-z not found', code: 'NoContainerInstances' });
    expect(candidates[0].remaining.memory).toBe(1024);
  });

  test('distinctInstance keeps the tasks of a group apart, counting those already running', () => {
    const spec = app(64);
    const candidates = placementCandidates(
      [host('i-a', {}), host('i-b', {}), host('i-c', {})],
      [boundTask('t-0', 'web:1', 'i-a', { group: 'service:web' })],
      () => spec,
    );
    const distinct = request(spec, { constraints: [{ type: 'distinctInstance' }] });
    expect(
      instancesOf(
        scheduler.placeBatch([distinct, distinct, distinct, request(spec, { group: 'service:api', constraints: [{ type: 'distinctInstance' }] })], candidates),
      ),
    ).toEqual(['i-b', 'i-c', 'CONSTRAINT:distinctInstance', 'i-a']);
  });

  test('memberOf keeps the instances the query accepts; task:group and runningTasksCount see the batch so far', () => {
    const spec = app(64);
    const instances = [
      host('i-a', { 'ecs.instance-type': 't2.small' }),
      host('i-b', { 'ecs.instance-type': 'm5.large' }),
      host('i-c', { 'ecs.instance-type': 't2.large' }),
    ];
    const candidates = placementCandidates(instances, [boundTask('db-0', 'db:1', 'i-c', { group: 'service:db' })], () => spec);
    const t2 = request(spec, {
      constraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t2.*' }],
      strategy: [{ type: 'spread', field: 'instanceId' }],
    });
    expect(instancesOf(scheduler.placeBatch([t2, t2, t2], candidates))).toEqual(['i-a', 'i-c', 'i-a']);

    const nextToDb = request(spec, { constraints: [{ type: 'memberOf', expression: 'task:group == service:db' }] });
    const quiet = request(spec, { group: 'family:batch', constraints: [{ type: 'memberOf', expression: 'runningTasksCount == 0' }] });
    expect(instancesOf(scheduler.placeBatch([nextToDb, quiet, quiet, quiet], candidates))).toEqual(['i-c', 'i-a', 'i-b', 'CONSTRAINT:memberOf']);
  });

  test("the task definition's constraints and the service's both apply (the binder passes both)", () => {
    const spec = app(64);
    const candidates = placementCandidates(
      [host('i-a', { zone: 'a', tier: 'web' }), host('i-b', { zone: 'b', tier: 'web' }), host('i-c', { zone: 'b', tier: 'db' })],
      [],
      () => spec,
    );
    const both: PlacementConstraint[] = [
      { type: 'memberOf', expression: 'attribute:zone == b' },
      { type: 'memberOf', expression: 'attribute:tier in [web, api]' },
    ];
    expect(instancesOf(scheduler.placeBatch([request(spec, { constraints: both })], candidates))).toEqual(['i-b']);
  });
});

describe('EcsScheduler: strategies', () => {
  const scheduler = new EcsScheduler();

  test('binpack takes the instance with the least of the field left that still fits', () => {
    const instances = [host('i-a', {}, { cpu: 4096, memory: 1000 }), host('i-b', {}, { cpu: 1024, memory: 3000 }), host('i-c', {}, { cpu: 2048, memory: 600 })];
    const candidates = placementCandidates(instances, [], () => app(700, 512));
    expect(instancesOf(scheduler.placeBatch([request(app(700, 512)), request(app(700, 512))], candidates))).toEqual(['i-a', 'i-b']);
    expect(instancesOf(scheduler.placeBatch([request(app(700, 512), { strategy: [{ type: 'binpack', field: 'cpu' }] })], candidates))).toEqual(['i-b']);
  });

  test('spread counts the group tasks already running on each attribute value, and ties pass to the next strategy', () => {
    // The worked example of ecs-scheduler.ts: zone a holds 2 tasks of service:web and zone b 1, so
    // spread keeps i-2 and i-3 (zone b) and binpack(memory) takes i-3, the one with less memory left.
    const spec = app(100);
    const instances = [
      host('i-1', { 'ecs.availability-zone': 'a' }, { memory: 1000 }),
      host('i-2', { 'ecs.availability-zone': 'b' }, { memory: 800 }),
      host('i-3', { 'ecs.availability-zone': 'b' }, { memory: 400 }),
      host('i-4', { 'ecs.availability-zone': 'a' }, { memory: 4000 }),
    ];
    const running = [
      boundTask('w-1', 'web:1', 'i-4', { group: 'service:web' }),
      boundTask('w-2', 'web:1', 'i-4', { group: 'service:web' }),
      boundTask('w-3', 'web:1', 'i-2', { group: 'service:web' }),
      boundTask('o-1', 'other:1', 'i-1', { group: 'service:other' }),
    ];
    const candidates = placementCandidates(instances, running, () => spec);
    const strategy: PlacementStrategy[] = [
      { type: 'spread', field: 'attribute:ecs.availability-zone' },
      { type: 'binpack', field: 'memory' },
    ];
    // b:1 → i-3; now a:2 b:2, tie on zone, binpack over all: i-3 (300 left); a:2 b:3 → zone a, i-1 (900 left < 3800).
    expect(instancesOf(scheduler.placeBatch([request(spec, { strategy }), request(spec, { strategy }), request(spec, { strategy })], candidates))).toEqual([
      'i-3',
      'i-3',
      'i-1',
    ]);
  });

  test('random picks only among the instances the strategies before it tied, reproducibly for one source', () => {
    const spec = app(64);
    const instances = Array.from({ length: 4 }, (_, i) => host(`i-${i}`, { zone: i < 2 ? 'x' : 'y' }));
    const candidates = placementCandidates(instances, [boundTask('w', 'web:1', 'i-0', { group: 'service:web' })], () => spec);
    const strategy: PlacementStrategy[] = [{ type: 'spread', field: 'attribute:zone' }, { type: 'random' }, { type: 'binpack', field: 'memory' }];
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const [decision] = new EcsScheduler({ random: seededRandom(seed) }).placeBatch([request(spec, { strategy })], candidates);
      seen.add(instancesOf([decision])[0]);
      const again = new EcsScheduler({ random: seededRandom(seed) }).placeBatch([request(spec, { strategy })], candidates);
      expect(again).toEqual([decision]);
    }
    expect([...seen].sort()).toEqual(['i-2', 'i-3']);
  });

  test('defaults: a service spreads over zones then instances; a standalone task is placed at random', () => {
    const spec = app(64);
    const instances = [
      host('i-1', { 'ecs.availability-zone': 'a' }),
      host('i-2', { 'ecs.availability-zone': 'a' }),
      host('i-3', { 'ecs.availability-zone': 'b' }),
    ];
    const candidates = placementCandidates(instances, [], () => spec);
    const service = request(spec, { strategy: [] });
    expect(instancesOf(scheduler.placeBatch([service, service, service, service], candidates))).toEqual(['i-1', 'i-3', 'i-2', 'i-3']);

    const standalone = request(spec, { group: 'family:job', strategy: [] });
    const chosen = new Set(
      Array.from({ length: 30 }, (_, seed) => instancesOf(new EcsScheduler({ random: seededRandom(seed + 1) }).placeBatch([standalone], candidates))[0]),
    );
    expect([...chosen].sort()).toEqual(['i-1', 'i-2', 'i-3']);
  });
});

describe('EcsScheduler: why a task waits', () => {
  const scheduler = new EcsScheduler();

  test('names the closest instance and what it lacks, and how many instances each check excluded', () => {
    const spec = app(512, 0, 8080);
    const instances = [
      host('i-1', {}, {}, { status: 'DRAINING' }),
      host('i-2', {}, { memory: 256 }),
      host('i-3', { zone: 'a' }, { memory: 256 }),
      host('i-4', { zone: 'b' }),
    ];
    const candidates = placementCandidates(instances, [boundTask('w', 'web:1', 'i-4', { group: 'service:web' })], () => app(64));
    const constraints: PlacementConstraint[] = [{ type: 'distinctInstance' }];
    expect(scheduler.placeBatch([request(spec, { constraints })], candidates)).toEqual([
      {
        reason:
          'no container instance met all of its requirements. The closest matching container-instance i-4 encountered error "DistinctInstance placement constraint unsatisfied". ' +
          'Of 4 instances: 1 DRAINING, 2 insufficient memory, 1 excluded by distinctInstance.',
        code: 'CONSTRAINT:distinctInstance',
      },
    ]);
    const zoneB = [{ type: 'memberOf' as const, expression: 'attribute:zone == c' }];
    expect(scheduler.placeBatch([request(spec, { group: 'service:api', constraints: zoneB })], candidates)[0]).toEqual({
      reason:
        'no container instance met all of its requirements. The closest matching container-instance i-4 encountered error "MemberOf placement constraint unsatisfied". ' +
        'Of 4 instances: 1 DRAINING, 2 insufficient memory, 1 excluded by memberOf(attribute:zone == c).',
      code: 'CONSTRAINT:memberOf',
    });
    const big = app(8192, 4096, 8080);
    const onlyShort = placementCandidates(
      [host('i-2', {}, { cpu: 1024, memory: 256 }), host('i-3', {}, { cpu: 8192, memory: 9000 })],
      [boundTask('p', 'web:1', 'i-3')],
      () => app(64, 0, 8080),
    );
    expect(scheduler.placeBatch([request(big)], onlyShort)[0]).toEqual({
      reason:
        'no container instance met all of its requirements. The closest matching container-instance i-3 is already using a port required by your task. ' +
        'Of 2 instances: 1 insufficient CPU units, 1 with a host port in use.',
      code: 'RESOURCE:PORTS',
    });
    expect(scheduler.placeBatch([request(big)], onlyShort.slice(0, 1))[0]).toEqual({
      reason:
        'no container instance met all of its requirements. The closest matching container-instance i-2 has insufficient CPU units and memory available. Of 1 instance: 1 insufficient CPU units.',
      code: 'RESOURCE:CPU',
    });
    expect(scheduler.placeBatch([request(spec)], [])[0]).toEqual({ reason: 'No Container Instances were found in your cluster', code: 'NoContainerInstances' });
  });
});

/** Placing one by one: each task against candidates recomputed from the tasks placed so far. */
function oneByOne(
  scheduler: EcsScheduler,
  requests: (BatchRequest & { task: Task })[],
  instances: ContainerInstance[],
  running: Task[],
  specOf: (t: Task) => TaskDefinitionSpec,
): PlacementDecision[] {
  const placed = [...running];
  return requests.map(({ task, ...rest }) => {
    const decision = scheduler.place({ ...rest, candidates: placementCandidates(instances, placed, specOf) });
    if ('instance' in decision) {
      placed.push({
        ...task,
        metadata: { ...task.metadata, annotations: { [admittedAnnotation]: 'true' } },
        spec: { ...task.spec, containerInstance: decision.instance },
      });
    }
    return decision;
  });
}

const zones = ['a', 'b', 'c'];
const types = ['t2.small', 't2.large', 'm5.large'];
const expressions = [
  'attribute:ecs.availability-zone in [a, b]',
  'attribute:ecs.instance-type =~ t2.*',
  'not(attribute:ecs.instance-type == m5.large) or attribute:ecs.availability-zone == c',
  'runningTasksCount < 3',
  'task:group == service:g0',
];
const strategies: PlacementStrategy[][] = [
  [],
  [{ type: 'binpack', field: 'memory' }],
  [{ type: 'binpack', field: 'cpu' }],
  [
    { type: 'spread', field: 'attribute:ecs.availability-zone' },
    { type: 'binpack', field: 'memory' },
  ],
  [{ type: 'spread', field: 'instanceId' }],
  [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'random' }],
];

const scenario = fc.record({
  instances: fc.array(
    fc.record({
      zone: fc.constantFrom(...zones),
      type: fc.constantFrom(...types),
      cpu: fc.integer({ min: 256, max: 4096 }),
      memory: fc.integer({ min: 256, max: 8192 }),
      draining: fc.boolean(),
    }),
    { minLength: 0, maxLength: 8 },
  ),
  tasks: fc.array(
    fc.record({
      group: fc.constantFrom('service:g0', 'service:g1', 'family:job'),
      cpu: fc.integer({ min: 0, max: 1024 }),
      memory: fc.integer({ min: 16, max: 2048 }),
      port: fc.option(fc.integer({ min: 8000, max: 8002 }), { nil: undefined }),
      distinct: fc.boolean(),
      memberOf: fc.option(fc.constantFrom(...expressions), { nil: undefined }),
      strategy: fc.nat({ max: strategies.length - 1 }),
    }),
    { maxLength: 25 },
  ),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build({ instances, tasks }: Scenario) {
  const hosts = instances.map((i, n) =>
    host(
      `i-${n}`,
      { 'ecs.availability-zone': i.zone, 'ecs.instance-type': i.type },
      { cpu: i.cpu, memory: i.memory },
      i.draining ? { status: 'DRAINING' } : {},
    ),
  );
  const specs = tasks.map((t) => app(t.memory, t.cpu, t.port));
  const specOf = (task: Task) => specs[Number(task.metadata.name.slice(1))];
  const requests = tasks.map((t, n) => ({
    ...request(specs[n], {
      group: t.group,
      constraints: [
        ...(t.distinct ? [{ type: 'distinctInstance' as const }] : []),
        ...(t.memberOf ? [{ type: 'memberOf' as const, expression: t.memberOf }] : []),
      ],
      strategy: strategies[t.strategy],
    }),
    task: pendingTask(`t${n}`, 'x:1', t.group),
  }));
  return { hosts, specs, specOf, requests };
}

describe('EcsScheduler properties', () => {
  test('a batch gives exactly the decisions of placing one by one', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { hosts, specOf, requests } = build(s);
        const batch = new EcsScheduler({ random: seededRandom(s.seed) }).placeBatch(requests, placementCandidates(hosts, [], specOf));
        expect(batch).toEqual(oneByOne(new EcsScheduler({ random: seededRandom(s.seed) }), requests, hosts, [], specOf));
      }),
      { numRuns: 300 },
    );
  });

  test('a placement never exceeds an instance, never lands on a draining one, and never breaks a constraint', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { hosts, specs, requests } = build(s);
        const decisions = new EcsScheduler({ random: seededRandom(s.seed) }).placeBatch(
          requests,
          placementCandidates(hosts, [], () => undefined),
        );
        const used = new Map<string, { cpu: number; memory: number; ports: number[]; groups: string[] }>();
        decisions.forEach((decision, n) => {
          if (!('instance' in decision)) return;
          const i = Number(decision.instance.slice(2));
          const spec = s.instances[i];
          const u = used.get(decision.instance) ?? { cpu: 0, memory: 0, ports: [], groups: [] };
          const before = { ...u, groups: [...u.groups] };
          u.cpu += specs[n].containerDefinitions[0].cpu ?? 0;
          u.memory += specs[n].containerDefinitions[0].memory ?? 0;
          const t = s.tasks[n];
          expect(spec.draining).toBe(false);
          expect(u.cpu).toBeLessThanOrEqual(spec.cpu);
          expect(u.memory).toBeLessThanOrEqual(spec.memory);
          if (t.port !== undefined) {
            expect(u.ports).not.toContain(t.port);
            u.ports.push(t.port);
          }
          if (t.distinct) expect(before.groups).not.toContain(t.group);
          if (t.memberOf === expressions[0]) expect(['a', 'b']).toContain(spec.zone);
          if (t.memberOf === expressions[1]) expect(spec.type.startsWith('t2.')).toBe(true);
          if (t.memberOf === expressions[2]) expect(spec.type !== 'm5.large' || spec.zone === 'c').toBe(true);
          if (t.memberOf === expressions[3]) expect(before.groups.length).toBeLessThan(3);
          if (t.memberOf === expressions[4]) expect(before.groups).toContain('service:g0');
          u.groups.push(t.group);
          used.set(decision.instance, u);
        });
      }),
      { numRuns: 300 },
    );
  });

  test('binpack of identical tasks uses no more instances than needed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 64, max: 1024 }),
        fc.integer({ min: 1024, max: 8192 }),
        (count, tasks, memory, capacity) => {
          const spec = app(memory);
          const candidates = placementCandidates(
            Array.from({ length: count }, (_, i) => host(`i-${String(i).padStart(2, '0')}`, {}, { memory: capacity })),
            [],
            () => spec,
          );
          const decisions = new EcsScheduler().placeBatch(
            Array.from({ length: tasks }, () => request(spec)),
            candidates,
          );
          const perInstance = Math.floor(capacity / memory);
          const placed = Math.min(tasks, perInstance * count);
          expect(decisions.filter((d) => 'instance' in d)).toHaveLength(placed);
          expect(new Set(decisions.flatMap((d) => ('instance' in d ? [d.instance] : []))).size).toBe(Math.ceil(placed / perInstance));
        },
      ),
    );
  });

  test('spread keeps the per-value counts within one while every value has room', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...zones), { minLength: 1, maxLength: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        (instanceZones, tasks, byInstance) => {
          const spec = app(16);
          const candidates = placementCandidates(
            instanceZones.map((zone, i) => host(`i-${i}`, { 'ecs.availability-zone': zone }, { memory: 100_000 })),
            [],
            () => spec,
          );
          const field = byInstance ? 'instanceId' : 'attribute:ecs.availability-zone';
          const decisions = new EcsScheduler().placeBatch(
            Array.from({ length: tasks }, () => request(spec, { strategy: [{ type: 'spread', field }] })),
            candidates,
          );
          const counts = new Map<string, number>();
          for (const d of decisions) {
            if (!('instance' in d)) throw new Error('every task fits');
            const key = byInstance ? d.instance : instanceZones[Number(d.instance.slice(2))];
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
          const values = byInstance ? instanceZones.length : new Set(instanceZones).size;
          const all = [...counts.values(), ...Array<number>(values - counts.size).fill(0)];
          expect(Math.max(...all) - Math.min(...all)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
