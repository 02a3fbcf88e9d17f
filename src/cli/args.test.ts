import { parseAgentArgs, parseDrainArgs } from './args';

describe('berth agent arguments', () => {
  test('the required flags, with defaults for the rest', () => {
    expect(parseAgentArgs(['--cluster', 'prod', '--node-group', 'edge'], {})).toEqual({
      cluster: 'prod',
      nodeGroup: 'edge',
      reservedCpu: 0,
      reservedMemory: 0,
      attributes: {},
      logLevel: 'info',
    });
  });

  test('every flag', () => {
    const flags = parseAgentArgs(
      [
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
      ],
      {},
    );
    expect(flags).toEqual({
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
    [['--node-group', 'edge'], '--cluster is required'],
    [['--cluster', 'prod'], '--node-group is required'],
    [['--cluster', 'prod', '--node-group', 'edge', '--reserved-cpu=-1'], '--reserved-cpu: "-1" is not a whole number'],
    [['--cluster', 'prod', '--node-group', 'edge', '--reserved-memory', '1.5'], '--reserved-memory: "1.5" is not a whole number'],
    [['--cluster', 'prod', '--node-group', 'edge', '--attribute', 'ecs.os-type=windows'], 'the ecs. prefix is reserved'],
    [['--cluster', 'prod', '--node-group', 'edge', '--lease-duration', '1500ms'], '--lease-duration: "1500ms" is not a whole number of seconds'],
    [['--cluster', 'prod', '--node-group', 'edge', '--lease-duration', '10s'], '--lease-renew-interval must be shorter than --lease-duration'],
    [['--cluster', 'prod', '--node-group', 'edge', '--log-level', 'loud'], '--log-level: "loud" is not one of'],
    [['--cluster', 'prod', '--node-group', 'edge', '--desired', '3'], "Unknown option '--desired'"],
  ])('%j is refused', (args, message) => {
    expect(() => parseAgentArgs(args, {})).toThrow(message);
  });
});

describe('berth drain / undrain arguments', () => {
  test.each(['instance/edge-1', 'containerinstance/edge-1', 'containerinstances.berth.dev/edge-1', 'bci/edge-1'])('%s names the instance edge-1', (target) => {
    expect(parseDrainArgs('drain', [target])).toEqual({ change: 'drain', name: 'edge-1' });
  });

  test('-n and --kubeconfig', () => {
    expect(parseDrainArgs('undrain', ['instance/edge-1', '-n', 'team-a', '--kubeconfig', '/tmp/kc'])).toEqual({
      change: 'undrain',
      name: 'edge-1',
      namespace: 'team-a',
      kubeconfig: '/tmp/kc',
    });
  });

  test.each([
    [[], 'drain takes one instance: berth drain instance/NAME [-n NS]'],
    [['instance/a', 'instance/b'], 'drain takes one instance'],
    [['edge-1'], '"edge-1" is not instance/NAME'],
    [['pod/edge-1'], '"pod/edge-1" is not instance/NAME'],
    [['instance/'], '"instance/" is not instance/NAME'],
    [['instance/a/b'], '"instance/a/b" is not instance/NAME'],
  ])('%j is refused', (args, message) => {
    expect(() => parseDrainArgs('drain', args)).toThrow(message);
  });
});
