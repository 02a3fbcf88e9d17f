// `kubectl berth import` round-trips the ECS corpus (test/fixtures/ecs-corpus): the built CLI, found on PATH as the
// kubectl plugin kubectl-berth, imports each file, and `kubectl apply --server-side` puts what it wrote into a fresh
// namespace of the real API server, which accepts every manifest; a file the import refuses exits 1 with its exact
// lines and writes nothing on stdout. One applied TaskDefinition is read back to check its fields survived.
// Bounded: about a minute (two processes per file).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TaskDefinition } from '../../../src/api';
import { corpusFiles, corpusPath, expectedManifests, expectedRefusals } from '../../../src/import/testing/corpus';
import { kubectl, kubectlOk, run, testEnv } from '../../env/env';
import { cliPath, projectDir, requireBuiltCli, runSuffix } from './cli-process';

const namespace = `berth-import-${runSuffix()}`;
let pluginDir: string;

/** `kubectl berth import ARGS` as a user types it: kubectl finds kubectl-berth on PATH and hands it the arguments. */
function kubectlBerthImport(args: string[], stdin?: string) {
  const env = testEnv();
  return run(env.kubectl, ['berth', 'import', ...args], {
    stdin,
    cwd: projectDir,
    env: { ...process.env, PATH: `${pluginDir}${path.delimiter}${process.env.PATH ?? ''}`, KUBECONFIG: env.kubeconfig },
  });
}

/** How `kubectl apply` names what it applied: `serviceaccount/x`, `taskdefinition.berth.dev/y`. */
function applied(kindAndName: string): string {
  const [kind, name] = kindAndName.split('/');
  return kind === 'ServiceAccount' ? `serviceaccount/${name} serverside-applied` : `${kind.toLowerCase()}.berth.dev/${name} serverside-applied`;
}

beforeAll(async () => {
  requireBuiltCli();
  pluginDir = mkdtempSync(path.join(os.tmpdir(), 'berth-import-it-'));
  const plugin = path.join(pluginDir, 'kubectl-berth');
  writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  chmodSync(plugin, 0o755);
  await kubectlOk(['create', 'namespace', namespace]);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

test.each(corpusFiles)('kubectl berth import %s: what it writes is applied by the API server, or it is refused with its lines', async (file) => {
  const imported = await kubectlBerthImport([`${corpusPath}/${file}`, '-n', namespace]);
  const refusal = expectedRefusals[file];
  if (refusal) {
    expect({ code: imported.code, stdout: imported.stdout, stderr: imported.stderr.trimEnd().split('\n') }).toEqual({
      code: 1,
      stdout: '',
      stderr: [`error: ${refusal[0]}`, ...refusal.slice(1)],
    });
    return;
  }
  expect(imported.code).toBe(0);
  // The report: one line per field, its path first (or a line of its own for the whole input).
  for (const line of imported.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^([\w.[\]-]+: |--cluster )/);
  const apply = await kubectl(['apply', '--server-side', '--field-manager=berth-import-test', '-f', '-'], imported.stdout);
  expect({ code: apply.code, stderr: apply.stderr, applied: apply.stdout.trim().split('\n') }).toEqual({
    code: 0,
    stderr: '',
    applied: expectedManifests[file].map(applied),
  });
});

test('- reads stdin: the same manifests as from the file, and -o json is a List kubectl applies', async () => {
  const file = `${corpusPath}/27-describe-services-rollback-capacity-provider.json`;
  const fromFile = await kubectlBerthImport([file, '-n', namespace]);
  const fromStdin = await kubectlBerthImport(['-', '-n', namespace], readFileSync(path.join(projectDir, file), 'utf8'));
  expect({ code: fromStdin.code, stdout: fromStdin.stdout, stderr: fromStdin.stderr }).toEqual({ code: 0, stdout: fromFile.stdout, stderr: fromFile.stderr });
  const json = await kubectlBerthImport(['-o', 'json', '-n', namespace, file]);
  expect(JSON.parse(json.stdout)).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service' }] });
  const apply = await kubectl(['apply', '--server-side', '--field-manager=berth-import-test', '--dry-run=server', '-f', '-'], json.stdout);
  expect({ code: apply.code, stdout: apply.stdout.trim() }).toEqual({
    code: 0,
    stdout: 'service.berth.dev/news-thewest-pr713-web-app-service-452bf42 serverside-applied (server dry run)',
  });
});

test('applied TaskDefinitions read back with their fields, and the API server’s defaults', async () => {
  const taskDefinition = JSON.parse(
    await kubectlOk(['get', 'taskdefinitions.berth.dev', 'appmesh-firelens-colorteller-black', '-n', namespace, '-o', 'json']),
  ) as TaskDefinition;
  expect(taskDefinition.spec).toMatchObject({
    taskRole: 'ecs-task-role',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: 1024,
    memory: 2048,
    containerDefinitions: [
      { name: 'log_router', essential: true, memoryReservation: 50 },
      {
        name: 'app',
        essential: true,
        dependsOn: [{ containerName: 'envoy', condition: 'HEALTHY' }],
        portMappings: [{ containerPort: 9080, hostPort: 9080, protocol: 'tcp' }],
      },
      {
        name: 'envoy',
        user: '1337',
        ulimits: [{ name: 'nofile', hardLimit: 15000, softLimit: 15000 }],
        healthCheck: { command: ['CMD-SHELL', 'curl -s http://localhost:9901/server_info | grep state | grep -q LIVE'], interval: 5, timeout: 2, retries: 3 },
      },
    ],
  });
  expect(taskDefinition.spec.containerDefinitions[0].logConfiguration).toBeUndefined();
  const serviceAccount = JSON.parse(await kubectlOk(['get', 'serviceaccount', 'ecs-task-role', '-n', namespace, '-o', 'json'])) as {
    metadata: { annotations: Record<string, string> };
  };
  expect(serviceAccount.metadata.annotations['eks.amazonaws.com/role-arn']).toBe('arn:aws:iam::012345678910:role/ecs_task_role');
  // The ECS family that is no Kubernetes name stays in spec.family; essential and networkMode get the schema's defaults.
  const consul = JSON.parse(await kubectlOk(['get', 'taskdefinitions.berth.dev', 'consulclient', '-n', namespace, '-o', 'json'])) as TaskDefinition;
  expect(consul.spec).toMatchObject({
    family: 'consulClient',
    networkMode: 'host',
    containerDefinitions: [{ name: 'consulClient', essential: true, cpu: 128 }],
  });
  // A dynamic host port stays dynamic through the API server: no hostPort appears.
  const nginx = JSON.parse(await kubectlOk(['get', 'taskdefinitions.berth.dev', 'nginx', '-n', namespace, '-o', 'json'])) as TaskDefinition;
  expect(nginx.spec.containerDefinitions[0].portMappings).toEqual([{ containerPort: 80, protocol: 'tcp' }]);
});
