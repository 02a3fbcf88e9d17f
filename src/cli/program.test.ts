import { runCli, version, type CliActions } from './program';

/** What any command's action is given. */
type Flags = Parameters<CliActions[keyof CliActions]>[0];

/** `berth ARGS` with actions that record what they were given, and what was printed. */
async function berth(args: string[], env: NodeJS.ProcessEnv = {}) {
  const ran: { command: string; flags: Flags }[] = [];
  let out = '';
  let err = '';
  const record = (command: string) => (flags: Flags) => {
    ran.push({ command, flags });
    return Promise.resolve(0);
  };
  const code = await runCli(
    args,
    {
      local: record('local'),
      operator: record('operator'),
      agent: record('agent'),
      drain: record('drain'),
      rolloutStatus: record('rollout status'),
      describeService: record('describe'),
      logs: record('logs'),
      runTask: record('run-task'),
      stopTask: record('stop-task'),
      importEcs: record('import'),
    },
    { out: (text) => (out += text), err: (text) => (err += text) },
    env,
  );
  return { code, ran, out, err };
}

describe('berth --help', () => {
  test.each([
    ['local', ['--dir', '--provider', '--once', '--log-level', '--metrics-bind-address', '--health-probe-bind-address', '--metrics-period']],
    ['operator', ['--kubeconfig', '--leader-elect', '--leader-elect-lease-duration', '--webhook-bind-address', '--disconnected-instance-grace']],
    ['agent', ['--cluster', '--node-group', '-n, --namespace', '--reserved-cpu', '--attribute', '--lease-renew-interval']],
    ['drain', ['<instance/NAME>', '-n, --namespace', '--kubeconfig']],
    ['undrain', ['<instance/NAME>', '-n, --namespace']],
    ['rollout status', ['<service/NAME>', '-n, --namespace', '--kubeconfig', '--context', '--timeout']],
    ['describe', ['<service/NAME>', '-o, --output', '-n, --namespace', '--kubeconfig', '--context']],
    ['logs', ['<task/NAME>', '-c, --container', '-f, --follow', '--tail', '-n, --namespace', '--kubeconfig', '--context']],
    [
      'run-task',
      [
        '--task-definition',
        '--cluster',
        '--count',
        '--launch-type',
        '--capacity-provider-strategy',
        '--overrides',
        '--group',
        '--started-by',
        '-o, --output',
        '-n, --namespace',
        '--context',
      ],
    ],
    ['stop-task', ['<task/NAME>', '--reason', '-n, --namespace', '--kubeconfig', '--context']],
    ['import', ['<FILE>', '-n, --namespace', '--cluster', '-o, --output']],
  ])('berth %s --help names every flag, exits 0 and runs nothing', async (command, flags) => {
    const { code, ran, out } = await berth([...command.split(' '), '--help']);
    expect({ code, ran }).toEqual({ code: 0, ran: [] });
    expect(out).toContain(`Usage: berth ${command}`);
    for (const flag of flags) expect(out).toContain(flag);
  });

  test('berth --help and berth help list the commands', async () => {
    for (const args of [['--help'], ['help']]) {
      const { code, out } = await berth(args);
      expect(code).toBe(0);
      for (const command of ['local', 'operator', 'agent', 'drain', 'undrain', 'describe', 'logs', 'run-task', 'stop-task', 'version'])
        expect(out).toContain(command);
    }
  });

  test('berth version and berth --version', async () => {
    expect((await berth(['version'])).out).toBe(`berth ${version}\n`);
    expect((await berth(['--version'])).out).toBe(`${version}\n`);
  });

  test('an unknown command or flag exits 1, as kubectl, and says which', async () => {
    expect(await berth(['sail'])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining("unknown command 'sail'") });
    expect(await berth(['local', '--desired', '3'])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining("unknown option '--desired'") });
  });
});

describe('berth local and operator flags', () => {
  test('local: defaults, and BERTH_LOG_LEVEL', async () => {
    expect((await berth(['local'], { BERTH_LOG_LEVEL: 'debug' })).ran).toEqual([
      {
        command: 'local',
        flags: { once: false, logLevel: 'debug', metricsBindAddress: '127.0.0.1:8080', healthProbeBindAddress: '127.0.0.1:8081' },
      },
    ]);
    expect((await berth(['local', '--dir', 'm', '--provider', 'simulated', '--once'])).ran[0].flags).toMatchObject({
      dir: 'm',
      provider: 'simulated',
      once: true,
    });
    expect(await berth(['local', '--provider', 'aws'])).toMatchObject({ code: 1, err: expect.stringContaining('Allowed choices are simulated') });
  });

  test('operator: durations parsed, webhook off by default', async () => {
    const { ran } = await berth(['operator', '--leader-elect', '--leader-elect-lease-duration', '3s', '--disconnected-instance-grace', '1m30s']);
    expect(ran[0].flags).toEqual({
      leaderElect: true,
      leaseDurationMs: 3000,
      disconnectedInstanceGraceMs: 90_000,
      metricsBindAddress: ':8080',
      healthProbeBindAddress: ':8081',
      webhook: { bindAddress: '0', service: 'berth-webhook', secret: 'berth-webhook-tls', configuration: 'berth-webhook' },
    });
    await expect(berth(['operator', '--leader-elect-retry-period', 'soon'])).rejects.toThrow('--leader-elect-retry-period');
  });
});

describe('--metrics-period', () => {
  test('local, operator and agent take it as milliseconds; 0 is refused by name', async () => {
    expect((await berth(['local', '--metrics-period', '5s'])).ran[0].flags).toMatchObject({ metricsPeriodMs: 5000 });
    expect((await berth(['operator', '--metrics-period', '1m'])).ran[0].flags).toMatchObject({ metricsPeriodMs: 60_000 });
    expect((await berth(['agent', '--cluster', 'c', '--node-group', 'g', '--metrics-period', '30s'])).ran[0].flags).toMatchObject({ metricsPeriodMs: 30_000 });
    await expect(berth(['local', '--metrics-period', '0s'])).rejects.toThrow('--metrics-period: "0s" is not a positive duration');
  });
});

describe('berth agent flags', () => {
  test('the required flags, with defaults for the rest', async () => {
    expect((await berth(['agent', '--cluster', 'prod', '--node-group', 'edge'])).ran[0].flags).toEqual({
      cluster: 'prod',
      nodeGroup: 'edge',
      reservedCpu: 0,
      reservedMemory: 0,
      attributes: {},
      logLevel: 'info',
    });
  });

  test('every flag', async () => {
    const { ran } = await berth([
      'agent',
      '--cluster=prod',
      '--node-group=edge',
      '-n',
      'team-a',
      '--kubeconfig',
      '/tmp/kc',
      '--name',
      'edge-1',
      '--reserved-cpu',
      '512',
      '--reserved-memory',
      '1024',
      '--attribute',
      'tier=edge',
      '--attribute',
      'rack=r1',
      '--availability-zone',
      'zone-a',
      '--instance-type',
      'pi5',
      '--lease-duration',
      '3s',
      '--lease-renew-interval',
      '500ms',
      '--log-level',
      'debug',
    ]);
    expect(ran[0].flags).toEqual({
      cluster: 'prod',
      nodeGroup: 'edge',
      namespace: 'team-a',
      kubeconfig: '/tmp/kc',
      name: 'edge-1',
      reservedCpu: 512,
      reservedMemory: 1024,
      attributes: { tier: 'edge', rack: 'r1' },
      availabilityZone: 'zone-a',
      instanceType: 'pi5',
      leaseDurationSeconds: 3,
      leaseRenewIntervalMs: 500,
      logLevel: 'debug',
    });
  });

  test.each([
    [['--node-group', 'edge'], "required option '--cluster <NAME>' not specified"],
    [['--cluster', 'prod'], "required option '--node-group <NAME>' not specified"],
    [['--cluster', 'prod', '--node-group', 'edge', '--desired', '3'], "unknown option '--desired'"],
  ])('%j is a usage error (exit 1)', async (args, message) => {
    expect(await berth(['agent', ...args])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining(message) });
  });

  test.each([
    [['--reserved-cpu=-1'], '--reserved-cpu: "-1" is not a whole number'],
    [['--reserved-memory', '1.5'], '--reserved-memory: "1.5" is not a whole number'],
    [['--attribute', 'ecs.os-type=windows'], 'the ecs. prefix is reserved'],
    [['--lease-duration', '1500ms'], '--lease-duration: "1500ms" is not a whole number of seconds'],
    [['--lease-duration', '10s'], '--lease-renew-interval must be shorter than --lease-duration'],
    [['--log-level', 'loud'], '--log-level: "loud" is not one of'],
  ])('%j is refused before anything connects', async (args, message) => {
    await expect(berth(['agent', '--cluster', 'prod', '--node-group', 'edge', ...args])).rejects.toThrow(message);
  });
});

describe('berth drain / undrain', () => {
  test.each(['instance/edge-1', 'containerinstance/edge-1', 'containerinstances.berth.dev/edge-1', 'bci/edge-1'])(
    '%s names the instance edge-1',
    async (target) => {
      expect((await berth(['drain', target])).ran).toEqual([{ command: 'drain', flags: { change: 'drain', name: 'edge-1' } }]);
    },
  );

  test('-n and --kubeconfig', async () => {
    expect((await berth(['undrain', 'instance/edge-1', '-n', 'team-a', '--kubeconfig', '/tmp/kc'])).ran[0].flags).toEqual({
      change: 'undrain',
      name: 'edge-1',
      namespace: 'team-a',
      kubeconfig: '/tmp/kc',
    });
  });

  test.each([
    [[], "missing required argument 'instance/NAME'"],
    [['instance/a', 'instance/b'], 'too many arguments'],
  ])('%j is a usage error (exit 1)', async (args, message) => {
    expect(await berth(['drain', ...args])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining(message) });
  });

  test.each([
    [['edge-1'], '"edge-1" is not instance/NAME'],
    [['pod/edge-1'], '"pod/edge-1" is not instance/NAME'],
    [['instance/'], '"instance/" is not instance/NAME'],
    [['instance/a/b'], '"instance/a/b" is not instance/NAME'],
  ])('%j is refused', async (args, message) => {
    await expect(berth(['drain', ...args])).rejects.toThrow(message);
  });
});

describe('berth rollout status', () => {
  test("service/NAME with kubectl's flags; another kind or a bad timeout is refused by name", async () => {
    expect((await berth(['rollout', 'status', 'service/web', '-n', 'shop', '--context', 'prod', '--timeout', '2m'])).ran).toEqual([
      { command: 'rollout status', flags: { name: 'web', namespace: 'shop', context: 'prod', timeoutMs: 120_000 } },
    ]);
    expect((await berth(['rollout', 'status', 'bsvc/api'])).ran[0].flags).toEqual({ name: 'api' });
    await expect(berth(['rollout', 'status', 'deployment/web'])).rejects.toThrow('rollout status: "deployment/web" is not service/NAME');
    await expect(berth(['rollout', 'status', 'service/web', '--timeout', 'soon'])).rejects.toThrow('--timeout');
    expect((await berth(['rollout', 'status'])).code).toBe(1);
  });
});

describe('berth describe', () => {
  test("service/NAME with kubectl's flags and -o; another kind is refused by name", async () => {
    expect((await berth(['describe', 'bsvc/web', '-n', 'shop', '--kubeconfig', '/tmp/kc', '--context', 'prod', '-o', 'yaml'])).ran).toEqual([
      { command: 'describe', flags: { name: 'web', namespace: 'shop', kubeconfig: '/tmp/kc', context: 'prod', output: 'yaml' } },
    ]);
    expect((await berth(['describe', 'service/web'])).ran[0].flags).toEqual({ name: 'web' });
    await expect(berth(['describe', 'task/web-1'])).rejects.toThrow('describe: "task/web-1" is not service/NAME');
    expect(await berth(['describe', 'service/web', '-o', 'wide'])).toMatchObject({
      code: 1,
      ran: [],
      err: expect.stringContaining('Allowed choices are yaml, json'),
    });
    expect((await berth(['describe'])).code).toBe(1);
  });
});

describe('berth logs', () => {
  test('task/NAME, -c, -f, --tail', async () => {
    expect((await berth(['logs', 'task/job-1', '-c', 'main', '-f', '--tail', '20', '-n', 'shop'])).ran).toEqual([
      { command: 'logs', flags: { name: 'job-1', namespace: 'shop', container: 'main', follow: true, tail: 20 } },
    ]);
    expect((await berth(['logs', 'btask/job-1', '--tail=-1'])).ran[0].flags).toEqual({ name: 'job-1', follow: false });
  });

  test.each([
    [['service/web'], 'logs: "service/web" is not task/NAME'],
    [['task/job-1', '--tail', 'ten'], '--tail: "ten" is not a whole number'],
    [['task/job-1', '--tail', '-2'], '--tail: "-2" is not a whole number'],
  ])('%j is refused', async (args, message) => {
    await expect(berth(['logs', ...args])).rejects.toThrow(message);
  });
});

describe('berth run-task', () => {
  test('the required flags, count 1 by default', async () => {
    expect((await berth(['run-task', '--task-definition', 'job', '--cluster', 'demo'])).ran).toEqual([
      { command: 'run-task', flags: { taskDefinition: 'job', cluster: 'demo', count: 1 } },
    ]);
  });

  test('every flag', async () => {
    const { ran } = await berth([
      'run-task',
      '--task-definition=job:3',
      '--cluster=demo',
      '--count=10',
      '--capacity-provider-strategy',
      'capacityProvider=edge,base=1',
      '--capacity-provider-strategy',
      'capacityProvider=FARGATE,weight=2',
      '--overrides',
      '{"containerOverrides":[{"name":"main","command":["echo","hi"]}]}',
      '--group',
      'batch',
      '--started-by',
      'cron',
      '-o',
      'name',
      '-n',
      'shop',
    ]);
    expect(ran[0].flags).toEqual({
      namespace: 'shop',
      taskDefinition: 'job:3',
      cluster: 'demo',
      count: 10,
      capacityProviderStrategy: [
        { capacityProvider: 'edge', weight: 0, base: 1 },
        { capacityProvider: 'FARGATE', weight: 2, base: 0 },
      ],
      overrides: { containerOverrides: [{ name: 'main', command: ['echo', 'hi'] }] },
      group: 'batch',
      startedBy: 'cron',
      output: 'name',
    });
    expect((await berth(['run-task', '--task-definition', 'job', '--cluster', 'demo', '--launch-type', 'FARGATE'])).ran[0].flags).toMatchObject({
      launchType: 'FARGATE',
    });
  });

  test.each([
    [['--cluster', 'demo'], "required option '--task-definition <FAMILY[:REV]>' not specified"],
    [['--task-definition', 'job'], "required option '--cluster <NAME>' not specified"],
    [['--task-definition', 'job', '--cluster', 'demo', '--launch-type', 'EXTERNAL'], 'Allowed choices are EC2, FARGATE'],
    [['--task-definition', 'job', '--cluster', 'demo', '-o', 'wide'], 'Allowed choices are yaml, json, name'],
  ])('%j is a usage error (exit 1)', async (args, message) => {
    expect(await berth(['run-task', ...args])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining(message) });
  });

  test.each([
    [['--count', '0'], '--count: "0" is not between 1 and 10'],
    [['--count', '11'], '--count: "11" is not between 1 and 10'],
    [['--count', 'two'], '--count: "two" is not a whole number'],
    [['--task-definition', 'job:latest'], '--task-definition: "job:latest" is not FAMILY or FAMILY:REVISION'],
    [['--task-definition', 'job:0'], '--task-definition: "job:0" is not FAMILY or FAMILY:REVISION'],
    [['--launch-type', 'EC2', '--capacity-provider-strategy', 'capacityProvider=edge'], '--launch-type and --capacity-provider-strategy are exclusive'],
    [['--capacity-provider-strategy', 'edge'], '--capacity-provider-strategy: "edge" is not capacityProvider=NAME[,weight=N][,base=N]'],
    [['--capacity-provider-strategy', 'weight=1'], '--capacity-provider-strategy: "weight=1" names no capacityProvider'],
    [['--capacity-provider-strategy', 'capacityProvider=edge,weight=-1'], '--capacity-provider-strategy weight: "-1" is not a whole number'],
    [['--overrides', '{containerOverrides'], '--overrides: not JSON'],
    [['--overrides', '[]'], '--overrides: not a JSON object'],
  ])('%j is refused before anything connects', async (args, message) => {
    await expect(berth(['run-task', '--task-definition', 'job', '--cluster', 'demo', ...args])).rejects.toThrow(message);
  });
});

describe('berth stop-task', () => {
  test('task/NAME and --reason', async () => {
    expect((await berth(['stop-task', 'task/job-1', '--reason', 'maintenance', '--context', 'prod'])).ran).toEqual([
      { command: 'stop-task', flags: { name: 'job-1', context: 'prod', reason: 'maintenance' } },
    ]);
    await expect(berth(['stop-task', 'instance/job-1'])).rejects.toThrow('stop-task: "instance/job-1" is not task/NAME');
    await expect(berth(['stop-task', 'task/job-1', '--reason', 'x'.repeat(1025)])).rejects.toThrow('--reason: at most 1024 characters');
  });
});

describe('berth import', () => {
  test('FILE, with yaml by default; -n, --cluster and -o json', async () => {
    expect((await berth(['import', 'td.json'])).ran).toEqual([{ command: 'import', flags: { file: 'td.json', output: 'yaml' } }]);
    expect((await berth(['import', '-', '-n', 'web', '--cluster', 'demo', '-o', 'json'])).ran[0].flags).toEqual({
      file: '-',
      namespace: 'web',
      cluster: 'demo',
      output: 'json',
    });
  });

  test('a FILE is required and -o takes yaml or json: usage errors exit 1', async () => {
    expect(await berth(['import'])).toMatchObject({ code: 1, ran: [], err: expect.stringContaining("missing required argument 'FILE'") });
    expect(await berth(['import', 'td.json', '-o', 'wide'])).toMatchObject({
      code: 1,
      ran: [],
      err: expect.stringContaining('Allowed choices are yaml, json'),
    });
  });
});
