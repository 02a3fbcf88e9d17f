// No secret value ever leaves the container's environment: the built `berth operator`, at debug log
// level, runs tasks on the real Docker engine whose containers take Secrets (`secrets` with
// secretKeyRef, a dockerconfigjson Secret for repositoryCredentials) down every path where a value
// could surface — tasks RUNNING with a health check that prints the values, a container that prints
// them and exits 3, a container that cannot start, a key that does not exist, a registry that
// refuses the pull, a health check that prints them and fails (the service replaces the task), the
// Secret changed and a rolling update. Then everything Berth wrote or said is collected: every line
// of its stdout and stderr, every Berth object of the namespace with its status, every Event, every
// ControllerRevision and Lease, and its /metrics page. No value may appear in any of them — neither
// as written, nor base64-encoded, nor line by line (a log line escapes a newline, so each line of a
// multi-line value is looked for on its own).
//
// The test cannot pass by never delivering a value: Docker's own view of the containers (their
// environment) must hold each value, the changed one in the tasks started after the change.
//
// Bounded: about a minute on a busy 2-core machine (the slowest wait is the unhealthy task's
// replacement: interval 5 s × retries 1, then the stop).
import { randomBytes } from 'node:crypto';
import { clusters, containerInstances, services, taskDefinitions, tasks as taskType, type Task } from '../../../src/api';
import { secrets } from '../../../src/store/builtin-types';
import { eventually } from '../../../src/runtime/eventually';
import { kubectlOk, testEnv } from '../../env/env';
import { describeService, localClusterManifest, startFaultEnv, steadyOn, taskLabels, type FaultEnv } from './fault-env';
import type { CliProcess } from '../process/cli-process';

const timeoutMs = 150_000;

/** Distinctive values, none of which can occur by chance in anything Berth writes. */
const token = (bytes: number) => randomBytes(bytes).toString('hex');
const values = {
  password: `pw-${token(12)}`,
  changedPassword: `pw2-${token(12)}`,
  multiline: `ml-${token(8)}\nml-${token(8)}`,
  base64ish: randomBytes(24).toString('base64'),
  registryPassword: `reg-${token(12)}`,
};

/** Every form in which a value could be written: as is, base64-encoded, and each line of it. */
function needles(): { name: string; text: string }[] {
  return Object.entries(values).flatMap(([name, value]) => [
    { name, text: value },
    { name: `${name} (base64)`, text: Buffer.from(value).toString('base64') },
    ...(value.includes('\n') ? value.split('\n').map((line, i) => ({ name: `${name} (line ${i + 1})`, text: line })) : []),
  ]);
}

const image = testEnv().testImage;
const secretEnv = `
      secrets:
        - name: PASSWORD
          valueFrom: { secretKeyRef: { name: app-secrets, key: password } }
        - name: MULTILINE
          valueFrom: { secretKeyRef: { name: app-secrets, key: multiline } }
        - name: BASE64ISH
          valueFrom: { secretKeyRef: { name: app-secrets, key: base64ish } }`;

function taskDefinition(name: string, container: string): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  containerDefinitions:
    - name: ${name}
      image: ${image}
      essential: true
      cpu: 64
      memory: 32
      stopTimeout: 2${container}${secretEnv}
---`;
}

function standaloneTask(name: string, revision: string): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: ${name}
spec:
  cluster: secrets
  taskDefinition: ${revision}
---`;
}

const secretsManifest = () => `
apiVersion: v1
kind: Secret
metadata:
  name: app-secrets
stringData:
  password: ${JSON.stringify(values.password)}
  multiline: ${JSON.stringify(values.multiline)}
  base64ish: ${JSON.stringify(values.base64ish)}
---
apiVersion: v1
kind: Secret
metadata:
  name: registry
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: ${JSON.stringify(JSON.stringify({ auths: { '127.0.0.1:1': { username: 'berth', password: values.registryPassword } } }))}
`;

const manifests = `${localClusterManifest('secrets')}
${taskDefinition(
  'app',
  `
      command: [sh, -c, 'exec sleep 3600']
      environment:
        - name: ROUND
          value: "1"
      healthCheck:
        command: [CMD-SHELL, 'echo "$PASSWORD $MULTILINE $BASE64ISH"']
        interval: 5
        timeout: 3
        retries: 3`,
)}
${taskDefinition('crash', `\n      command: [sh, -c, 'echo "$PASSWORD $MULTILINE"; echo "$BASE64ISH" >&2; exit 3']`)}
${taskDefinition('badstart', `\n      entryPoint: [/no/such/binary]`)}
${taskDefinition(
  'unhealthy',
  `
      command: [sh, -c, 'exec sleep 3600']
      healthCheck:
        command: [CMD-SHELL, 'echo "$PASSWORD $MULTILINE $BASE64ISH"; exit 1']
        interval: 5
        timeout: 3
        retries: 1`,
)}
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: missingkey
spec:
  containerDefinitions:
    - name: missingkey
      image: ${image}
      essential: true
      cpu: 64
      memory: 32
      secrets:
        - name: PASSWORD
          valueFrom: { secretKeyRef: { name: app-secrets, key: password } }
        - name: NOPE
          valueFrom: { secretKeyRef: { name: app-secrets, key: nope } }
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: private
spec:
  containerDefinitions:
    - name: private
      image: 127.0.0.1:1/berth/private:1
      essential: true
      cpu: 64
      memory: 32
      repositoryCredentials: { credentialsParameter: registry }
---
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: app
spec:
  cluster: secrets
  taskDefinition: app
  desiredCount: 2
  deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 }
---
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: unhealthy
spec:
  cluster: secrets
  taskDefinition: unhealthy
  desiredCount: 1
---
${standaloneTask('crash', 'crash:1')}
${standaloneTask('badstart', 'badstart:1')}
${standaloneTask('missingkey', 'missingkey:1')}
${standaloneTask('private', 'private:1')}
`;

let env: FaultEnv;
let operator: CliProcess;

beforeAll(async () => {
  env = await startFaultEnv('secrets');
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], secretsManifest());
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], manifests);
  operator = env.startOperator({ metricsBindAddress: '127.0.0.1:0', env: { BERTH_LOG_LEVEL: 'debug' } });
}, timeoutMs);

afterAll(async () => {
  await env?.teardown();
}, 120_000);

async function task(name: string): Promise<Task | undefined> {
  return env.store.get<Task>(taskType, env.namespace, name);
}

async function tasks(): Promise<Task[]> {
  return (await env.store.list<Task>(taskType, env.namespace)).items;
}

/** Docker's own view: the environment of every running container of `revision`. */
async function environmentsOf(revision: string): Promise<string[][]> {
  const running = (await env.containers()).filter((c) => c.State === 'running');
  const inspected = await Promise.all(running.map((c) => env.docker.getContainer(c.Id).inspect()));
  return inspected.filter((c) => c.Config.Labels?.[taskLabels.taskDefinition] === revision).map((c) => c.Config.Env ?? []);
}

test(
  'every path a secret takes: the values reach the containers and nothing Berth writes or logs holds them',
  async () => {
    const detail = async () => `${describeService(await env.service('app'))}\n${operator.tail(20)}`;
    await eventually(async () => steadyOn(await env.service('app'), 'app:1', 2), 'app steady on app:1', { timeoutMs: 90_000, intervalMs: 250, detail });

    // Each failing path ran to its end, so that what it reports is in what is collected below.
    const stopped = async (name: string) => (await task(name))?.status?.lastStatus === 'STOPPED';
    for (const name of ['crash', 'badstart', 'missingkey', 'private']) {
      await eventually(() => stopped(name), `task ${name} STOPPED`, { timeoutMs: 90_000, intervalMs: 250, detail });
    }
    expect((await task('crash'))?.status?.containers?.[0]?.exitCode).toBe(3);
    expect((await task('missingkey'))?.status?.stoppedReason).toMatch(/nope/);
    expect((await task('private'))?.status?.stoppedReason).toMatch(/CannotPullContainerError/);
    expect((await task('badstart'))?.status?.stoppedReason).toMatch(/CannotStartContainerError/);
    await eventually(
      async () => (await tasks()).some((t) => t.spec.taskDefinition === 'unhealthy:1' && t.status?.lastStatus === 'STOPPED'),
      'an unhealthy task replaced',
      { timeoutMs: 90_000, intervalMs: 250, detail },
    );

    // Delivered: Docker holds each value in the running containers' environment.
    for (const environment of await environmentsOf('app:1')) {
      expect(environment).toEqual(expect.arrayContaining([`PASSWORD=${values.password}`, `MULTILINE=${values.multiline}`, `BASE64ISH=${values.base64ish}`]));
    }
    expect(await environmentsOf('app:1')).toHaveLength(2);

    // The Secret changes, then a rolling update: the new tasks read the new value.
    await env.store.patch(secrets, env.namespace, 'app-secrets', {
      stringData: { password: values.changedPassword },
    });
    await env.setEnvironment('app', '2');
    await eventually(async () => steadyOn(await env.service('app'), 'app:2', 2), 'app steady on app:2', { timeoutMs: 90_000, intervalMs: 250, detail });
    const rolled = await environmentsOf('app:2');
    expect(rolled).toHaveLength(2);
    for (const environment of rolled) expect(environment).toContain(`PASSWORD=${values.changedPassword}`);

    // Everything Berth wrote or said.
    const serving = operator.stdout.split('\n').find((line) => line.includes('"serving metrics"'));
    expect(serving).toBeDefined();
    const { address } = JSON.parse(serving!) as { address: string };
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    expect(metrics).toMatch(/controller_runtime_reconcile_total/);
    const kinds = [clusters, containerInstances, services, taskDefinitions, taskType].map((t) => `${t.plural}.${t.group}`);
    const objects = await kubectlOk(['get', '-n', env.namespace, '-o', 'json', [...kinds, 'events', 'controllerrevisions', 'leases'].join(',')]);
    expect(objects).toMatch(/"kind": "Event"/);
    expect(operator.stdout).toMatch(/"level":"debug"/);
    const haystacks = { 'operator stdout': operator.stdout, 'operator stderr': operator.stderr, 'objects, Events and revisions': objects, metrics };

    const found = needles().flatMap((needle) =>
      Object.entries(haystacks)
        .filter(([, text]) => text.includes(needle.text))
        .map(([where, text]) => {
          const at = text.indexOf(needle.text);
          return `${needle.name} in ${where}: …${text.slice(Math.max(0, at - 200), at + needle.text.length + 50)}…`;
        }),
    );
    expect(found).toEqual([]);
  },
  timeoutMs * 3,
);
