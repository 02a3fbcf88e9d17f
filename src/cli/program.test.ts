import type { AgentFlags } from './agent';
import type { DrainFlags } from './drain';
import type { ImportFlags } from './import';
import type { LocalFlags } from './local';
import type { OperatorFlags } from './operator';
import type { RolloutStatusFlags } from './rollout';
import { runCli, version } from './program';

/** `berth ARGS` with actions that record what they were given, and what was printed. */
async function berth(args: string[], env: NodeJS.ProcessEnv = {}) {
  const ran: { command: string; flags: LocalFlags | OperatorFlags | AgentFlags | DrainFlags | RolloutStatusFlags | ImportFlags }[] = [];
  let out = '';
  let err = '';
  const record = (command: string) => (flags: LocalFlags | OperatorFlags | AgentFlags | DrainFlags | RolloutStatusFlags | ImportFlags) => {
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
      for (const command of ['local', 'operator', 'agent', 'drain', 'undrain', 'version']) expect(out).toContain(command);
    }
  });

  test('berth version and berth --version', async () => {
    expect((await berth(['version'])).out).toBe(`berth ${version}\n`);
    expect((await berth(['--version'])).out).toBe(`${version}\n`);
  });

  test('an unknown command or flag exits 2 and says which', async () => {
    expect(await berth(['sail'])).toMatchObject({ code: 2, ran: [], err: expect.stringContaining("unknown command 'sail'") });
    expect(await berth(['local', '--desired', '3'])).toMatchObject({ code: 2, ran: [], err: expect.stringContaining("unknown option '--desired'") });
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
    expect(await berth(['local', '--provider', 'aws'])).toMatchObject({ code: 2, err: expect.stringContaining('Allowed choices are simulated') });
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
  ])('%j is a usage error (exit 2)', async (args, message) => {
    expect(await berth(['agent', ...args])).toMatchObject({ code: 2, ran: [], err: expect.stringContaining(message) });
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
  ])('%j is a usage error (exit 2)', async (args, message) => {
    expect(await berth(['drain', ...args])).toMatchObject({ code: 2, ran: [], err: expect.stringContaining(message) });
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
    expect((await berth(['rollout', 'status'])).code).toBe(2);
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

  test('a FILE is required and -o takes yaml or json: usage errors exit 2', async () => {
    expect(await berth(['import'])).toMatchObject({ code: 2, ran: [], err: expect.stringContaining("missing required argument 'FILE'") });
    expect(await berth(['import', 'td.json', '-o', 'wide'])).toMatchObject({
      code: 2,
      ran: [],
      err: expect.stringContaining('Allowed choices are yaml, json'),
    });
  });
});
