import type { Task, TaskDefinitionSpec } from '../api';
import { withOverrides } from '../ecs/revisions/overrides';
import { buildLaunch, LaunchError, registryOf, SecretSource } from './launch';

const b64 = (text: string) => Buffer.from(text).toString('base64');

const spec = {
  networkMode: 'bridge',
  containerDefinitions: [
    {
      name: 'app',
      image: 'registry.example.com/team/app:1',
      essential: true,
      memory: 128,
      environment: [{ name: 'MODE', value: 'prod' }],
      environmentFiles: [{ configMapRef: { name: 'settings' } }],
      secrets: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      repositoryCredentials: { credentialsParameter: 'pull' },
    },
    { name: 'sidecar', image: 'busybox', essential: false, memory: 32 },
  ],
} as unknown as TaskDefinitionSpec;

const task = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 't1', namespace: 'ns', uid: 'uid-1' },
  spec: {
    cluster: 'demo',
    taskDefinition: 'app:3',
    containerInstance: 'demo-general-0',
    overrides: { containerOverrides: [{ name: 'app', command: ['run', '--fast'], environment: [{ name: 'MODE', value: 'debug' }] }] },
  },
} as unknown as Task;

const source: SecretSource = {
  secret: (name) =>
    (<Record<string, ReturnType<SecretSource['secret']>>>{
      db: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { password: b64('hunter2') } },
      pull: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'registry.example.com': { auth: b64('robot:t0k3n:with-colon') } } })) },
      },
    })[name],
  configMap: (name) =>
    name === 'settings' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { LOG_LEVEL: 'info', DB_PASSWORD: 'from-file' } } : undefined,
};

test('overrides replace the command and override environment variables by name', () => {
  const result = withOverrides(spec, task.spec.overrides);
  expect(result.containerDefinitions[0].command).toEqual(['run', '--fast']);
  expect(result.containerDefinitions[0].environment).toEqual([{ name: 'MODE', value: 'debug' }]);
  expect(spec.containerDefinitions[0].command).toBeUndefined();
});

test('secrets and environment files are resolved per container, explicit secrets winning', () => {
  const launch = buildLaunch(task, spec, source, '127.0.0.1');
  expect(launch.resolvedEnvironment).toEqual({ app: { LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2' }, sidecar: {} });
  expect(launch).toMatchObject({ taskUid: 'uid-1', containerInstance: 'demo-general-0', taskDefinition: 'app:3', publishAddress: '127.0.0.1' });
});

test('registry credentials come from the dockerconfigjson Secret for the image registry', () => {
  const launch = buildLaunch(task, spec, source, '127.0.0.1');
  expect(launch.registryAuth).toEqual({ app: { username: 'robot', password: 't0k3n:with-colon', serveraddress: 'registry.example.com' } });
  expect(registryOf('busybox')).toBe('https://index.docker.io/v1/');
  expect(registryOf('localhost:5000/app')).toBe('localhost:5000');
});

test('a missing key names the field, never a value', () => {
  const broken: SecretSource = {
    ...source,
    secret: (name) => (name === 'db' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: {} } : source.secret(name)),
  };
  expect(() => buildLaunch(task, spec, broken, '127.0.0.1')).toThrow(
    new LaunchError('containerDefinitions[app].secrets[DB_PASSWORD]: Secret db has no key "password"'),
  );
});

test('a launch whose overrides name a missing container fails with the field named, as ECS refuses RunTask', () => {
  const bad = { ...task, spec: { ...task.spec, overrides: { containerOverrides: [{ name: 'nope', command: ['true'] }] } } };
  expect(() => buildLaunch(bad, spec, source, '127.0.0.1')).toThrow(
    new LaunchError(`overrides.containerOverrides[nope]: task definition app:3 has no container named nope`),
  );
});

test('a value no environment variable can hold (a NUL byte) is refused at launch, naming the key and never the value', () => {
  const withNul = (value: string): SecretSource => ({
    ...source,
    secret: (name) => (name === 'db' ? { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { password: b64(value) } } : source.secret(name)),
  });
  // Given to the engine, runc would refuse it at start and quote `DB_PASSWORD=hunter2\x00tail` in the task's stoppedReason.
  expect(() => buildLaunch(task, spec, withNul('hunter2\u0000tail'), '127.0.0.1')).toThrow(
    new LaunchError(
      'containerDefinitions[app].secrets[DB_PASSWORD]: the value of Secret db key "password" contains a NUL byte, which an environment variable cannot hold',
    ),
  );
  const fileWithNul: SecretSource = {
    ...source,
    configMap: (name) => (name === 'settings' ? { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { LOG_LEVEL: 'in\u0000fo' } } : undefined),
  };
  expect(() => buildLaunch(task, spec, fileWithNul, '127.0.0.1')).toThrow(
    new LaunchError(
      'containerDefinitions[app].environmentFiles[0]: the value of ConfigMap settings key "LOG_LEVEL" contains a NUL byte, which an environment variable cannot hold',
    ),
  );
});

test('a secret exposed under a name with "=" is refused at launch: Docker would echo `=NAME=<value>` in its refusal', () => {
  const named = (name: string) =>
    ({
      ...spec,
      containerDefinitions: [{ ...spec.containerDefinitions[0], secrets: [{ name, valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
    }) as TaskDefinitionSpec;
  expect(() => buildLaunch(task, named('=DB'), source, '127.0.0.1')).toThrow(
    new LaunchError('containerDefinitions[app].secrets[=DB]: an environment variable name cannot contain "=" or a NUL byte'),
  );
});

test('registry credentials that are not JSON fail the launch without quoting them (JSON.parse quotes the text it refuses)', () => {
  const notJson: SecretSource = {
    ...source,
    secret: (name) =>
      name === 'pull'
        ? {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name },
            type: 'kubernetes.io/dockerconfigjson',
            data: { '.dockerconfigjson': b64('{"auths":r0bot-pa55') },
          }
        : source.secret(name),
  };
  expect(() => buildLaunch(task, spec, notJson, '127.0.0.1')).toThrow(
    new LaunchError('containerDefinitions[app].repositoryCredentials: Secret pull: .dockerconfigjson is not valid JSON'),
  );
});
