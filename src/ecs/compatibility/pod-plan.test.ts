import fc from 'fast-check';
import { container, taskSpec } from '../testing/fixtures';
import { isIncompatibility, podContainerPlan, podIncompatibility } from './pod-plan';

const health = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3 };

describe('podContainerPlan', () => {
  test('the worked example: a COMPLETE target is an init container, a HEALTHY target a gated sidecar, before what waits', () => {
    const spec = taskSpec([
      container('app', {
        dependsOn: [
          { containerName: 'proxy', condition: 'HEALTHY' },
          { containerName: 'migrate', condition: 'COMPLETE' },
        ],
      }),
      container('proxy', { essential: false, healthCheck: health, dependsOn: [{ containerName: 'migrate', condition: 'COMPLETE' }] }),
      container('migrate', { essential: false }),
    ]);
    expect(podContainerPlan(spec)).toEqual({
      initContainers: [
        { name: 'migrate', role: 'init', healthGated: false },
        { name: 'proxy', role: 'sidecar', healthGated: true },
      ],
      containers: ['app'],
    });
  });

  test('START makes an ungated sidecar; SUCCESS an init container; containers keep task definition order', () => {
    const spec = taskSpec([
      container('b', { dependsOn: [{ containerName: 'log', condition: 'START' }] }),
      container('a', { dependsOn: [{ containerName: 'setup', condition: 'SUCCESS' }] }),
      container('log', { essential: false }),
      container('setup', { essential: false }),
    ]);
    expect(podContainerPlan(spec)).toEqual({
      initContainers: [
        { name: 'log', role: 'sidecar', healthGated: false },
        { name: 'setup', role: 'init', healthGated: false },
      ],
      containers: ['b', 'a'],
    });
  });

  test('what a Pod cannot lay out names the field and why', () => {
    const both = taskSpec([
      container('a', { dependsOn: [{ containerName: 'x', condition: 'START' }] }),
      container('b', { dependsOn: [{ containerName: 'x', condition: 'COMPLETE' }] }),
      container('x', { essential: false }),
    ]);
    expect(podContainerPlan(both)).toMatchObject({
      field: 'spec.containerDefinitions[1].dependsOn[0]',
      reason: expect.stringContaining('both to start and to exit'),
    });

    const essentialInit = taskSpec([container('a', { dependsOn: [{ containerName: 'x', condition: 'SUCCESS' }] }), container('x')]);
    expect(podContainerPlan(essentialInit)).toMatchObject({ field: 'spec.containerDefinitions[1].essential' });

    const probedInit = taskSpec([
      container('a', { dependsOn: [{ containerName: 'x', condition: 'COMPLETE' }] }),
      container('x', { essential: false, healthCheck: health }),
    ]);
    expect(podContainerPlan(probedInit)).toMatchObject({ field: 'spec.containerDefinitions[1].healthCheck' });

    const cycle = taskSpec([
      container('a', { essential: false, dependsOn: [{ containerName: 'b', condition: 'START' }] }),
      container('b', { essential: false, dependsOn: [{ containerName: 'a', condition: 'START' }] }),
      container('c'),
    ]);
    expect(podContainerPlan(cycle)).toMatchObject({ reason: expect.stringContaining('cycle') });
  });

  test('property: every container appears once, and every dependency target comes before what waits for it', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const conditions = ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'] as const;
    // An acyclic graph: a container only depends on containers after it in `names`.
    // Health checks only where nobody waits for an exit (a probed init container is ruled out, tested above).
    const specs = fc
      .array(fc.array(fc.tuple(fc.nat({ max: 4 }), fc.constantFrom(...conditions)), { maxLength: 3 }), { minLength: 5, maxLength: 5 })
      .map((deps) => {
        const dependsOn = names.map((_, i) => [
          ...new Map(deps[i].filter(([j]) => j > i).map(([j, condition]) => [names[j], { containerName: names[j], condition }])).values(),
        ]);
        const waitedToExit = new Set(
          dependsOn
            .flat()
            .filter((d) => d.condition === 'COMPLETE' || d.condition === 'SUCCESS')
            .map((d) => d.containerName),
        );
        return taskSpec(
          names.map((name, i) => container(name, { essential: i === 0, ...(!waitedToExit.has(name) && { healthCheck: health }), dependsOn: dependsOn[i] })),
        );
      });
    let laidOut = 0;
    fc.assert(
      fc.property(specs, (spec) => {
        const plan = podContainerPlan(spec);
        // The only shape left that a Pod cannot hold here: one container waited for both to start and to exit.
        if (isIncompatibility(plan)) return void expect(plan.reason).toContain('both to start and to exit');
        laidOut++;
        const order = [...plan.initContainers.map((c) => c.name), ...plan.containers];
        expect([...order].sort()).toEqual(names);
        const position = (name: string) => order.indexOf(name);
        const isInit = (name: string) => plan.initContainers.some((c) => c.name === name);
        for (const definition of spec.containerDefinitions) {
          for (const dependency of definition.dependsOn ?? []) {
            expect(isInit(dependency.containerName)).toBe(true);
            expect(position(dependency.containerName)).toBeLessThan(position(definition.name));
            const role = plan.initContainers.find((c) => c.name === dependency.containerName)!.role;
            expect(role).toBe(dependency.condition === 'COMPLETE' || dependency.condition === 'SUCCESS' ? 'init' : 'sidecar');
          }
        }
      }),
    );
    expect(laidOut).toBeGreaterThan(30);
  });
});

describe('podIncompatibility', () => {
  test('a task definition of plain fields runs as a Pod', () => {
    expect(
      podIncompatibility(
        taskSpec(
          [container('web', { user: '1000:1000', logConfiguration: { logDriver: 'json-file' }, portMappings: [{ containerPort: 80, protocol: 'tcp' }] })],
          {
            volumes: [
              { name: 'scratch', dockerVolumeConfiguration: { scope: 'task' } },
              { name: 'data', host: { sourcePath: '/srv' } },
            ],
          },
        ),
      ),
    ).toBeUndefined();
  });

  test.each([
    ['networkMode none', taskSpec([container('a')], { networkMode: 'none' }), 'spec.networkMode'],
    ['ulimits', taskSpec([container('a', { ulimits: [{ name: 'nofile', softLimit: 1, hardLimit: 2 }] })]), 'spec.containerDefinitions[0].ulimits'],
    ['dockerLabels', taskSpec([container('a'), container('b', { dockerLabels: { team: 'x' } })]), 'spec.containerDefinitions[1].dockerLabels'],
    ['a log driver', taskSpec([container('a', { logConfiguration: { logDriver: 'syslog' } })]), 'spec.containerDefinitions[0].logConfiguration.logDriver'],
    [
      'log options',
      taskSpec([container('a', { logConfiguration: { logDriver: 'json-file', options: { 'max-size': '1m' } } })]),
      'spec.containerDefinitions[0].logConfiguration.options',
    ],
    ['a user name', taskSpec([container('a', { user: 'nginx' })]), 'spec.containerDefinitions[0].user'],
    [
      'a shared volume',
      taskSpec([container('a')], { volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'shared' } }] }),
      'spec.volumes[0].dockerVolumeConfiguration.scope',
    ],
    [
      'a volume driver',
      taskSpec([container('a')], { volumes: [{ name: 'v', dockerVolumeConfiguration: { scope: 'task', driver: 'nfs' } }] }),
      'spec.volumes[0].dockerVolumeConfiguration.driver',
    ],
  ])('%s rules the Pod out, naming the field', (_, spec, field) => {
    const problem = podIncompatibility(spec);
    expect(problem?.field).toBe(field);
    expect(problem?.reason.length).toBeGreaterThan(10);
  });
});
