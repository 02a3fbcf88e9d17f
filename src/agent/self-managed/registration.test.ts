import {
  checkInstanceName,
  ecsArchitecture,
  instanceNameFromHost,
  parseAttributes,
  RegistrationError,
  registrationSpec,
  type EngineInfo,
} from './registration';

const info: EngineInfo = { NCPU: 4, MemTotal: 8_348_520_448, OSType: 'linux', Architecture: 'x86_64' };
const flags = { cluster: 'prod', nodeGroup: 'edge', reservedCpu: 0, reservedMemory: 0, attributes: {} };

describe('registrationSpec', () => {
  test('offers the engine CPUs × 1024 and its whole MiB, minus what is reserved for the host', () => {
    expect(registrationSpec(info, flags).registeredResources).toEqual({ cpu: 4096, memory: 7961 });
    expect(registrationSpec(info, { ...flags, reservedCpu: 512, reservedMemory: 1024 }).registeredResources).toEqual({ cpu: 3584, memory: 6937 });
  });

  test('refuses a reservation that leaves no CPU or no memory', () => {
    expect(() => registrationSpec(info, { ...flags, reservedCpu: 4096 })).toThrow('--reserved-cpu 4096 leaves no CPU: the engine has 4 CPUs (4096 units)');
    expect(() => registrationSpec(info, { ...flags, reservedMemory: 7961 })).toThrow('--reserved-memory 7961 leaves no memory');
  });

  test('sets the ecs attributes from the engine and the flags, beside the custom ones', () => {
    const spec = registrationSpec(
      { ...info, Architecture: 'aarch64' },
      { ...flags, availabilityZone: 'rack-1', instanceType: 'pi5', attributes: { tier: 'edge', 'team/owner': 'ops' } },
    );
    expect(spec).toEqual({
      cluster: 'prod',
      nodeGroup: 'edge',
      attributes: {
        tier: 'edge',
        'team/owner': 'ops',
        'ecs.os-type': 'linux',
        'ecs.cpu-architecture': 'arm64',
        'ecs.availability-zone': 'rack-1',
        'ecs.instance-type': 'pi5',
      },
      registeredResources: { cpu: 4096, memory: 7961 },
    });
  });

  test('leaves out the zone and the instance type when not given', () => {
    expect(Object.keys(registrationSpec(info, flags).attributes ?? {})).toEqual(['ecs.os-type', 'ecs.cpu-architecture']);
  });
});

test.each([
  ['x86_64', 'x86_64'],
  ['amd64', 'x86_64'],
  ['aarch64', 'arm64'],
  ['arm64', 'arm64'],
])('the engine architecture %s is ECS %s', (machine, ecs) => {
  expect(ecsArchitecture(machine)).toBe(ecs);
});

test('an architecture ECS has no name for is refused', () => {
  expect(() => ecsArchitecture('armv7l')).toThrow(new RegistrationError("the engine's architecture armv7l has no ECS cpu-architecture (x86_64 or arm64)"));
});

describe('parseAttributes', () => {
  test('NAME=VALUE pairs; a value may hold = and be empty', () => {
    expect(parseAttributes(['tier=edge', 'query=a=b', 'empty='])).toEqual({ tier: 'edge', query: 'a=b', empty: '' });
  });

  test.each([
    ['tier', '"tier" is not NAME=VALUE'],
    ['=edge', '"=edge" is not NAME=VALUE'],
    ['bad name=x', '"bad name" is not a valid attribute name'],
    ['ecs.instance-type=t3', 'the ecs. prefix is reserved'],
    [`long=${'v'.repeat(129)}`, 'longer than 128 characters'],
  ])('%s is refused', (value, message) => {
    expect(() => parseAttributes([value])).toThrow(message);
  });
});

describe('instance names', () => {
  test('the host name, made a valid object name', () => {
    expect(instanceNameFromHost('Build_Host-7.example.com')).toBe('build-host-7.example.com');
    expect(instanceNameFromHost('-edge-1-')).toBe('edge-1');
  });

  test('a host name that leaves nothing asks for --name', () => {
    expect(() => instanceNameFromHost('___')).toThrow('makes no valid instance name: pass --name');
  });

  test('--name must already be valid', () => {
    expect(checkInstanceName('edge-1')).toBe('edge-1');
    expect(() => checkInstanceName('Edge_1')).toThrow('--name: "Edge_1" is not a valid object name');
  });
});
