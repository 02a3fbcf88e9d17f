// No secret value ever leaks: the built `berth operator`, at log level debug, with in-process agents on the
// real Docker engine (a managed node group with `provider: local`), runs tasks whose environment comes from
// Secrets and a ConfigMap, and is driven down every path where a value could surface: tasks that run, a
// container that exits at once, one the engine fails to start, values the engine would refuse (and echo),
// a missing key, a registry that refuses the pull of an image with credentials, a Secret's key removed and
// re-added with a new value under running tasks, a Secret deleted under a running task, a rolling update,
// containerOverrides on a standalone task, a failing health check that prints the values. Then everything
// Berth wrote is collected — every line of the operator's stdout and stderr, every Berth object (status
// included) as JSON, every Event of the namespace, the ControllerRevisions, the Leases, the /metrics page,
// the containers' labels, and every version of those objects and Events the API server held from before the
// operator started (object-recorder.ts: raw watches, none of which may end early; a status overwritten, an
// Event's message replaced or a STOPPED task pruned before the end would otherwise hide what it once said)
// — and no secret value may appear in any of it, whole, as any of its lines or NUL-separated parts, or
// base64-encoded.
//
// The values: 13 random tokens of 24 characters ([A-Za-z0-9]: about 142 bits each, so no text matches one
// by chance) and 18 random bytes, in several shapes — a plain token, two lines, a base64-looking value (the
// 18 bytes in base64, with its `+`, `/`), a JSON document, a ConfigMap value, an environment file's two
// keys, two registry passwords (kubernetes.io/dockerconfigjson Secrets, one sent to a registry that refuses
// the pull), a value with a NUL byte (runc refuses it at start and quotes the whole variable in its error),
// one exposed as `=LEAK` (Docker refuses `=LEAK=<value>` at create and echoes it), a rotated value and one
// whose Secret is deleted.
//
// The test cannot pass by never delivering a secret: the service's containers hold the values in their
// environment (docker inspect), print them (docker logs), and answer their health check with them; after the
// rotation the new tasks of the rollout hold the new value.
//
// Bounds: the service of desiredCount 2 (minimumHealthyPercent 50, maximumPercent 200) steady within 120 s
// (health check every 5 s, healthy after the first); each standalone task STOPPED or UNHEALTHY within 90 s
// (the unhealthy one: one failed check, 5 s + 2 s); each step of the rotation seen within 120 s; the rollout
// steady within 120 s. 35–70 s on a busy 2-core machine (measured: 67, 51, 60, 52, 36, 38 s).
import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { Task, TaskDefinition } from '../../../src/api';
import { clusters, containerInstances, services, tasks as taskType, taskDefinitions } from '../../../src/api';
import { controllerRevisions, events, leases } from '../../../src/store/builtin-types';
import { kubectlOk, run, testEnv } from '../../env/env';
import { waitFor, type CliProcess } from '../process/cli-process';
import { describeService, localClusterManifest, startFaultEnv, steadyOn, taskLabels, webServiceManifest, type FaultEnv } from './fault-env';
import { ObjectRecorder } from './object-recorder';

const timeoutMs = 120_000;
const taskTimeoutMs = 90_000;
const desiredCount = 2;

/** 24 random characters of [A-Za-z0-9]. */
function token(): string {
  let text = '';
  while (text.length < 24)
    text += randomBytes(24)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '');
  return text.slice(0, 24);
}

const t = Array.from({ length: 13 }, token);
const values = {
  plain: t[0],
  multiline: `${t[1]}\n${t[2]}\n`,
  base64Like: randomBytes(18).toString('base64'),
  json: `{"user":"svc","password":"${t[3]}"}`,
  configMap: t[4],
  fileToken: t[5],
  fileOther: `${t[6]} with spaces`,
  registryPassword: t[7],
  withNul: `${t[8]}\u0000${t[9]}`,
  rotated: t[10],
  doomed: t[11],
  privateRegistryPassword: t[12],
};
const registryAuth = Buffer.from(`robot:${values.registryPassword}`).toString('base64');

/** Everything that must never appear: every value whole, each of its lines and NUL-separated parts, every token, and their base64. */
const forbidden = (() => {
  const plainForms = new Set<string>([...Object.values(values), ...t, registryAuth]);
  for (const value of Object.values(values))
    for (const part of value.split('\n').flatMap((line) => line.split('\u0000'))) if (part.length >= 16) plainForms.add(part);
  const all = new Set<string>(plainForms);
  for (const form of plainForms) all.add(Buffer.from(form).toString('base64'));
  return [...all];
})();

const b64 = (text: string) => Buffer.from(text).toString('base64');
const secret = (name: string, data: Record<string, string>, type = 'Opaque') => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  type,
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

const objects = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    secret('app-secrets', { plain: values.plain, multiline: values.multiline, base64: values.base64Like, json: values.json }),
    secret('env-file', { FILE_TOKEN: values.fileToken, FILE_OTHER: values.fileOther }),
    secret('nul-secret', { value: values.withNul }),
    secret('doomed', { value: values.doomed }),
    secret(
      'pull-creds',
      {
        '.dockerconfigjson': JSON.stringify({
          auths: { 'https://index.docker.io/v1/': { username: 'robot', password: values.registryPassword, auth: registryAuth } },
        }),
      },
      'kubernetes.io/dockerconfigjson',
    ),
    // Credentials for a registry that refuses every connection (nothing listens on 127.0.0.1:1): the pull fails.
    secret(
      'private-creds',
      { '.dockerconfigjson': JSON.stringify({ auths: { '127.0.0.1:1': { username: 'robot', password: values.privateRegistryPassword } } }) },
      'kubernetes.io/dockerconfigjson',
    ),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config' }, data: { cm: values.configMap } },
  ],
};

const image = () => testEnv().testImage;

/** Every kind of reference: Secret keys, a ConfigMap key, an environment file, registry credentials. */
const allSecrets = `
      secrets:
        - { name: PLAIN, valueFrom: { secretKeyRef: { name: app-secrets, key: plain } } }
        - { name: MULTI, valueFrom: { secretKeyRef: { name: app-secrets, key: multiline } } }
        - { name: B64, valueFrom: { secretKeyRef: { name: app-secrets, key: base64 } } }
        - { name: JSON_DOC, valueFrom: { secretKeyRef: { name: app-secrets, key: json } } }
        - { name: CM, valueFrom: { configMapKeyRef: { name: app-config, key: cm } } }
      environmentFiles:
        - secretRef: { name: env-file }
      repositoryCredentials: { credentialsParameter: pull-creds }`;

function taskDefinition(name: string, container: string, imageRef = image()): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  containerDefinitions:
    - name: app
      image: ${imageRef}
      essential: true
      cpu: 32
      memory: 32
      stopTimeout: 1
${container}
---`;
}

const manifests = () => `
${localClusterManifest('secrets')}
${taskDefinition(
  'web',
  `      command: [sh, -c, 'echo "started $PLAIN $B64 $CM $FILE_TOKEN"; exec sleep 3600']
      environment:
        - { name: ROUND, value: "0" }
      healthCheck:
        command: [CMD-SHELL, 'test "$PLAIN" != "" && echo "$PLAIN $MULTI"']
        interval: 5
        timeout: 2
        retries: 2${allSecrets}`,
)}
${taskDefinition('crash', `      command: [sleep, '3600']${allSecrets}`)}
${taskDefinition('badcmd', `      entryPoint: [/no/such/entrypoint]${allSecrets}`)}
${taskDefinition(
  'nul',
  `      command: [sleep, '3600']
      secrets:
        - { name: NUL_VALUE, valueFrom: { secretKeyRef: { name: nul-secret, key: value } } }`,
)}
${taskDefinition(
  'eqname',
  `      command: [sleep, '3600']
      secrets:
        - { name: "=LEAK", valueFrom: { secretKeyRef: { name: app-secrets, key: plain } } }`,
)}
${taskDefinition(
  'missingkey',
  `      command: [sleep, '3600']
      secrets:
        - { name: PLAIN, valueFrom: { secretKeyRef: { name: app-secrets, key: plain } } }
        - { name: NOPE, valueFrom: { secretKeyRef: { name: app-secrets, key: nope } } }`,
)}
${taskDefinition(
  'sick',
  `      command: [sleep, '3600']
      healthCheck:
        command: [CMD-SHELL, 'echo "$PLAIN $MULTI $JSON_DOC $FILE_OTHER"; exit 1']
        interval: 5
        timeout: 2
        retries: 1${allSecrets}`,
)}
${taskDefinition(
  'private',
  `      command: [sleep, '3600']
      repositoryCredentials: { credentialsParameter: private-creds }
      secrets:
        - { name: PLAIN, valueFrom: { secretKeyRef: { name: app-secrets, key: plain } } }`,
  '127.0.0.1:1/berth/private:1',
)}
${taskDefinition(
  'victim',
  `      command: [sleep, '3600']
      secrets:
        - { name: DOOMED, valueFrom: { secretKeyRef: { name: doomed, key: value } } }`,
)}
${webServiceManifest('secrets', desiredCount, { minimumHealthyPercent: 50, maximumPercent: 200 })}`;

function standaloneTask(name: string, family: string, overrides = ''): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: ${name}
spec:
  cluster: secrets
  taskDefinition: ${family}:1
  group: family:${family}
${overrides}
---`;
}

const standaloneFamilies = ['crash', 'badcmd', 'nul', 'eqname', 'missingkey', 'sick', 'private', 'victim'];

let env: FaultEnv;
let operator: CliProcess;
let recorder: ObjectRecorder;
/** Every byte the operator wrote, not only the tail CliProcess keeps. */
let operatorOutput = '';
let metricsPort: number;

beforeAll(async () => {
  env = await startFaultEnv('secrets-leak');
  recorder = new ObjectRecorder(env.namespace, [clusters, taskDefinitions, services, containerInstances, taskType, controllerRevisions, leases, events]);
  await recorder.start();
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], JSON.stringify(objects));
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests());
  operator = env.startOperator({ metricsBindAddress: '127.0.0.1:0', env: { BERTH_LOG_LEVEL: 'debug' } });
  operator.child.stdout!.on('data', (chunk: string) => (operatorOutput += chunk));
  operator.child.stderr!.on('data', (chunk: string) => (operatorOutput += chunk));
  metricsPort = await waitFor(
    () => {
      const address = operatorLines().find((line) => line.message === 'serving metrics')?.address;
      return typeof address === 'string' ? Number(address.split(':').pop()) : undefined;
    },
    'the operator to say where it serves /metrics',
    30_000,
    () => operator.tail(10),
  );
  // Standalone tasks pin a revision: they are created once it is registered.
  await waitFor(
    async () => {
      const registered = await Promise.all(
        standaloneFamilies.map(async (family) => (await env.store.get<TaskDefinition>(taskDefinitions, env.namespace, family))?.status?.revision === 1),
      );
      return registered.every(Boolean);
    },
    'every task definition to register revision 1',
    timeoutMs,
    () => operator.tail(10),
  );
  const overrides = `  overrides:
    containerOverrides:
      - name: app
        command: [sh, -c, 'echo "override $PLAIN $MULTI"; exit 4']
        environment:
          - { name: EXTRA, value: plain-override }`;
  await kubectlOk(
    ['apply', '-n', env.namespace, '-f', '-'],
    standaloneFamilies.map((family) => standaloneTask(family, family, family === 'crash' ? overrides : '')).join('\n'),
  );
}, timeoutMs);

afterAll(async () => {
  recorder?.stop();
  await env?.teardown();
}, 120_000);

function operatorLines(): Record<string, unknown>[] {
  return operatorOutput.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

const getTask = (name: string) => env.store.get<Task>(taskType, env.namespace, name);
const dockerLogs = async (id: string) => {
  const result = await run('docker', ['logs', id], { env: { ...process.env, DOCKER_HOST: testEnv().dockerHost } });
  return result.stdout + result.stderr;
};

async function taskContainer(taskName: string): Promise<Dockerode.ContainerInspectInfo> {
  const [info] = (await env.containers()).filter((c) => c.Labels[taskLabels.taskName] === taskName);
  if (!info) throw new Error(`no container for task ${taskName}`);
  return env.docker.getContainer(info.Id).inspect();
}

async function untilTask(name: string, what: string, done: (task: Task) => boolean): Promise<Task> {
  return waitFor(
    async () => {
      const task = await getTask(name);
      return task && done(task) ? task : undefined;
    },
    `task ${name} ${what}`,
    taskTimeoutMs,
    async () => `${JSON.stringify((await getTask(name))?.status)}\n${operator.tail(10)}`,
  );
}

const stopped = (task: Task) => task.status?.lastStatus === 'STOPPED';

async function referencesResolved(family: string, status: 'True' | 'False'): Promise<void> {
  const condition = async () =>
    (await env.store.get<TaskDefinition>(taskDefinitions, env.namespace, family))?.status?.conditions?.find((c) => c.type === 'ReferencesResolved');
  await waitFor(
    async () => (await condition())?.status === status,
    `${family}'s ReferencesResolved condition to be ${status}`,
    timeoutMs,
    async () => `${JSON.stringify(await condition())}\n${operator.tail(10)}`,
  );
}

async function serviceSteady(revision: string): Promise<Dockerode.ContainerInspectInfo[]> {
  await waitFor(
    async () => steadyOn(await env.service('web'), revision, desiredCount),
    `the service to be steady on ${revision}`,
    timeoutMs,
    async () => `${describeService(await env.service('web'))}\n${operator.tail(10)}`,
  );
  const running = (await env.containers()).filter((c) => c.State === 'running' && c.Labels[taskLabels.taskDefinition] === revision);
  expect(running).toHaveLength(desiredCount);
  return Promise.all(running.map((c) => env.docker.getContainer(c.Id).inspect()));
}

describe('no secret value appears in any log line, status, Event or metric of a run that uses secrets', () => {
  test(
    'the values reach the containers: in their environment, their output and their health check',
    async () => {
      for (const inspection of await serviceSteady('web:1')) {
        expect(inspection.Config.Env).toEqual(
          expect.arrayContaining([
            `PLAIN=${values.plain}`,
            `MULTI=${values.multiline}`,
            `B64=${values.base64Like}`,
            `JSON_DOC=${values.json}`,
            `CM=${values.configMap}`,
            `FILE_TOKEN=${values.fileToken}`,
            `FILE_OTHER=${values.fileOther}`,
          ]),
        );
        expect(await dockerLogs(inspection.Id)).toContain(`started ${values.plain} ${values.base64Like} ${values.configMap} ${values.fileToken}`);
        expect(inspection.State.Health?.Log?.some((check) => check.Output.includes(`${values.plain} ${values.multiline}`))).toBe(true);
      }
    },
    timeoutMs,
  );

  test(
    'a container that exits at once, one the engine cannot start, values the engine would refuse, a missing key, a refused pull, a failing health check',
    async () => {
      const crash = await untilTask('crash', 'to stop with its exit code', stopped);
      expect(crash.status).toMatchObject({ stopCode: 'EssentialContainerExited', containers: [{ name: 'app', exitCode: 4 }] });
      expect(await dockerLogs((await taskContainer('crash')).Id)).toContain(`override ${values.plain} ${values.multiline}`);

      const badcmd = await untilTask('badcmd', 'to fail to start', stopped);
      expect(badcmd.status).toMatchObject({ stopCode: 'TaskFailedToStart' });
      expect(badcmd.status?.stoppedReason).toContain('CannotStartContainerError');

      // Refused before the engine sees them: runc and Docker would quote the variable, value included.
      const nul = await untilTask('nul', 'to be refused', stopped);
      expect(nul.status).toMatchObject({ stopCode: 'TaskFailedToStart' });
      expect(nul.status?.stoppedReason).toContain('the value of Secret nul-secret key "value" contains a NUL byte');
      const eqname = await untilTask('eqname', 'to be refused', stopped);
      expect(eqname.status?.stoppedReason).toContain('an environment variable name cannot contain "="');
      const missing = await untilTask('missingkey', 'to be refused', stopped);
      expect(missing.status?.stoppedReason).toContain('Secret app-secrets has no key "nope"');

      // The pull goes to the registry with the credentials, and fails: the engine's error must not carry them.
      const pull = await untilTask('private', 'to fail its pull', stopped);
      expect(pull.status?.stoppedReason).toContain('CannotPullContainerError');

      await untilTask('sick', 'to turn UNHEALTHY', (task) => task.status?.containers?.[0]?.healthStatus === 'UNHEALTHY');
      const sick = await taskContainer('sick');
      expect(sick.State.Health?.Log?.some((check) => check.Output.includes(values.plain))).toBe(true);
    },
    2 * taskTimeoutMs,
  );

  test(
    'a Secret deleted under a running task, a Secret changed, and the rolling update that picks the new value up',
    async () => {
      await untilTask('victim', 'to run', (task) => task.status?.lastStatus === 'RUNNING');
      expect((await taskContainer('victim')).Config.Env).toContain(`DOOMED=${values.doomed}`);
      await kubectlOk(['delete', 'secret', 'doomed', '-n', env.namespace]);
      await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], standaloneTask('orphaned', 'victim'));
      const orphaned = await untilTask('orphaned', 'to fail for its missing Secret', stopped);
      expect(orphaned.status?.stoppedReason).toContain('Secret doomed not found');
      expect((await getTask('victim'))?.status?.lastStatus).toBe('RUNNING');

      // The rotation in two steps, each seen in web's ReferencesResolved condition: the key goes (False), then
      // comes back with the new value (True). The condition is computed from the Secret cache the agents launch
      // from, so once it is True again that cache holds the new value, and the rollout's tasks must get it.
      const patchSecret = (type: string, patch: unknown) =>
        kubectlOk(['patch', 'secret', 'app-secrets', '-n', env.namespace, '--type', type, '-p', JSON.stringify(patch)]);
      await patchSecret('json', [{ op: 'remove', path: '/data/plain' }]);
      await referencesResolved('web', 'False');
      await patchSecret('merge', { data: { plain: b64(values.rotated) } });
      await referencesResolved('web', 'True');
      await env.setEnvironment('web', '1');
      for (const inspection of await serviceSteady('web:2')) expect(inspection.Config.Env).toContain(`PLAIN=${values.rotated}`);
    },
    2 * timeoutMs,
  );

  test(
    'nothing Berth wrote holds a value: logs, every Berth object, Events, revisions, Leases, /metrics, container labels',
    async () => {
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      const json = (args: string[]) => kubectlOk([...args, '-n', env.namespace, '-o', 'json']);
      const collected: Record<string, string> = {
        'operator stdout and stderr': operatorOutput,
        'Berth objects': await json(['get', 'berth']),
        'Events (core/v1)': await json(['get', 'events']),
        'Events (events.k8s.io/v1)': await json(['get', 'events.events.k8s.io']),
        ControllerRevisions: await json(['get', 'controllerrevisions']),
        Leases: await json(['get', 'leases']),
        '/metrics': await metrics.text(),
        'every version the API server held': recorder.versions.map((v) => v.json).join('\n'),
        'container labels': JSON.stringify(
          await Promise.all((await env.containers()).map(async (c) => (await env.docker.getContainer(c.Id).inspect()).Config.Labels)),
        ),
      };
      // The collection is not empty: it holds the failures the values could have ridden on.
      expect(collected['operator stdout and stderr']).toContain('"level":"debug"');
      expect(collected['Events (core/v1)']).toContain('TaskFailedToStart');
      expect(collected['Berth objects']).toContain('CannotStartContainerError');
      expect(recorder.gaps).toEqual([]);
      expect(new Set(recorder.versions.map((v) => v.kind))).toEqual(
        new Set(['Cluster', 'TaskDefinition', 'Service', 'ContainerInstance', 'Task', 'ControllerRevision', 'Lease', 'Event']),
      );
      // More than the end state: the Tasks alone went through more versions than there are Tasks.
      expect(recorder.of('Task').length).toBeGreaterThan(new Set(recorder.of('Task').map((v) => v.name)).size);

      const leaks = Object.entries(collected).flatMap(([where, text]) =>
        forbidden.filter((form) => text.includes(form)).map((form) => `${where}: ${form.slice(0, 4)}… at "${context(text, form)}"`),
      );
      expect(leaks).toEqual([]);
    },
    timeoutMs,
  );
});

/** The text around a leak, with every value in it cut short, so the failure message leaks nothing either. */
function context(text: string, form: string): string {
  const at = text.indexOf(form);
  const around = text.slice(Math.max(0, at - 80), at + form.length + 40);
  const longestFirst = [...forbidden].sort((a, b) => b.length - a.length);
  return longestFirst.reduce((shown, value) => shown.split(value).join(`<${value.slice(0, 4)}…: ${value.length} chars>`), around);
}
