// The built `berth local` on a copy of examples/, on the real Docker engine: the examples run, their
// dynamic host port answers on 127.0.0.1, an edit of the TaskDefinition file rolls out, and SIGTERM
// leaves nothing behind. The copy renames the cluster, so this run's containers (berth local always
// uses the namespace `default`) are told apart from anyone else's by their dev.berth.cluster label.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import * as yaml from 'js-yaml';
import { testEnv } from '../../env/env';
import { CliProcess, dockerClient, projectDir, requireBuiltCli, runSuffix, waitFor } from './cli-process';

const env = testEnv();
const docker = dockerClient();
const exampleImage = { repo: 'busybox', tag: 'stable' };
const labels = {
  cluster: 'dev.berth.cluster',
  containerInstance: 'dev.berth.container-instance',
  containerName: 'dev.berth.container-name',
  taskDefinition: 'dev.berth.task-definition',
  taskUid: 'dev.berth.task-uid',
};

const tempDirs: string[] = [];
const processes: CliProcess[] = [];
let taggedExampleImage = false;

/** examples/ copied to a temp dir with the cluster `demo` renamed to `cluster`, each manifest then edited by `edit` when given. */
function examplesFor(cluster: string, edit?: (manifest: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-local-it-'));
  tempDirs.push(dir);
  cpSync(path.join(projectDir, 'examples'), dir, { recursive: true });
  for (const file of readdirSync(dir)) {
    const full = path.join(dir, file);
    const renamed = readFileSync(full, 'utf8').replace(/^([ \t]*)(name|cluster): demo$/gm, `$1$2: ${cluster}`);
    if (!edit) {
      writeFileSync(full, renamed);
      continue;
    }
    const documents = yaml.loadAll(renamed) as Record<string, unknown>[];
    documents.forEach(edit);
    writeFileSync(full, documents.map((d) => yaml.dump(d)).join('---\n'));
  }
  const all = readdirSync(dir)
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  if (/\bdemo\b/.test(all.replace(/^\s*#.*$/gm, '')) || !all.includes(`cluster: ${cluster}`)) {
    throw new Error(`renaming the examples' cluster to ${cluster} missed a reference in ${dir}`);
  }
  return dir;
}

async function clusterContainers(cluster: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${labels.cluster}=${cluster}`] } });
}

const runningOnly = (list: Dockerode.ContainerInfo[]) => list.filter((c) => c.State === 'running');
const named = (list: Dockerode.ContainerInfo[], name: string) => list.filter((c) => c.Labels[labels.containerName] === name);
const ofRevision = (list: Dockerode.ContainerInfo[], revision: string) => list.filter((c) => c.Labels[labels.taskDefinition] === revision);
const describe_ = (list: Dockerode.ContainerInfo[]) =>
  list.map((c) => `${c.Names[0]} ${c.State} ${c.Labels[labels.taskDefinition]} ${c.Labels[labels.containerInstance]}`).join('\n');

function lines(output: string): string[] {
  return output.split('\n');
}

async function get(port: number): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  requireBuiltCli();
  // The examples name busybox:stable; never pull it: tag the local test image when the tag is absent.
  try {
    await docker.getImage(`${exampleImage.repo}:${exampleImage.tag}`).inspect();
  } catch {
    await docker.getImage(env.testImage).tag(exampleImage);
    taggedExampleImage = true;
  }
});

afterAll(async () => {
  for (const child of processes) await child.end();
  for (const child of processes) {
    const cluster = (child as CliProcess & { cluster?: string }).cluster;
    if (!cluster) continue;
    for (const info of await clusterContainers(cluster))
      await docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
  }
  if (taggedExampleImage)
    await docker
      .getImage(`${exampleImage.repo}:${exampleImage.tag}`)
      .remove({ noprune: true })
      .catch(() => undefined);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function startLocal(cluster: string, dir: string, extra: string[] = [], childEnv: NodeJS.ProcessEnv = {}): CliProcess {
  const child = new CliProcess(['local', '--dir', dir, '--metrics-bind-address', '0', '--health-probe-bind-address', '0', ...extra], childEnv);
  Object.assign(child, { cluster });
  processes.push(child);
  return child;
}

test('berth local --provider simulated --once prints revisions and RUNNING tasks without Docker', async () => {
  const cluster = `local-sim-${runSuffix()}`;
  // --once stops a fixed 1.5 s after applying, and a simulated health check turns healthy 1 s after its
  // container starts, so health-checked tasks would reach RUNNING only just before (or after) the exit:
  // without the health checks they reach it well within the window.
  const dir = examplesFor(cluster, (manifest) => {
    const spec = manifest.spec as { containerDefinitions?: Record<string, unknown>[] };
    if (manifest.kind === 'TaskDefinition') for (const container of spec.containerDefinitions ?? []) delete container.healthCheck;
  });
  // An engine address that cannot answer: the simulated provider must not need one.
  const child = startLocal(cluster, dir, ['--provider', 'simulated', '--once'], { DOCKER_HOST: 'unix:///nonexistent/berth-it/docker.sock' });
  const exit = await child.waitForExit(30_000);
  expect({ exit, stderr: child.stderr.split('\n').filter((l) => l.includes('"level":"error"')) }).toEqual({ exit: { code: 0, signal: null }, stderr: [] });
  const out = lines(child.stdout);
  expect(out).toContain('berth local: every managed node group runs on the simulated provider (no containers)');
  expect(out).toContain(`created Cluster/default/${cluster}`);
  expect(out).toContain('taskdefinition/default/web: web:1 ACTIVE');
  expect(out).toContain('taskdefinition/default/node-exporter: node-exporter:1 ACTIVE');
  const runningTasks = new Set(out.map((l) => /^task\/default\/(\S+): (web|node-exporter):1 RUNNING on /.exec(l)?.[1]).filter(Boolean));
  // Three web tasks and one node-exporter task on each of the two instances.
  expect(runningTasks.size).toBe(5);
  expect(await clusterContainers(cluster)).toEqual([]);
}, 60_000);

describe('berth local on the examples, with the local Docker engine', () => {
  const cluster = `local-e2e-${runSuffix()}`;
  let dir: string;
  let local: CliProcess;
  const failure = async (what: string) => `${what}\n${describe_(await clusterContainers(cluster))}\n${local.tail(30)}`;

  beforeAll(() => {
    requireBuiltCli();
    dir = examplesFor(cluster);
    local = startLocal(cluster, dir);
  });

  test('the web service reaches running 3 and its dynamic host port answers on 127.0.0.1', async () => {
    await waitFor(
      () => lines(local.stdout).includes('service/default/web: web desired 3, running 3, pending 0'),
      'service web: running 3',
      60_000,
      () => failure('last seen:'),
    );
    expect(lines(local.stdout)).toContain(`created Cluster/default/${cluster}`);
    expect(lines(local.stdout)).toContain('taskdefinition/default/web: web:1 ACTIVE');

    const up = runningOnly(await clusterContainers(cluster));
    // Three web tasks, each a web container and its log-shipper sidecar, all of web:1.
    expect(named(ofRevision(up, 'web:1'), 'web')).toHaveLength(3);
    expect(named(ofRevision(up, 'web:1'), 'log-shipper')).toHaveLength(3);
    expect(new Set(named(up, 'web').map((c) => c.Labels[labels.taskUid])).size).toBe(3);

    // The printed binding of a RUNNING web task is the one Docker publishes, on 127.0.0.1, and it serves the index page.
    const printed = lines(local.stdout)
      .map((l) => /^task\/default\/(web-\S+): web:1 RUNNING on \S+ 127\.0\.0\.1:(\d+)->8080\/web/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(printed.length).toBeGreaterThanOrEqual(3);
    const published = named(up, 'web').flatMap((c) => c.Ports.filter((p) => p.PrivatePort === 8080).map((p) => ({ ip: p.IP, port: p.PublicPort })));
    expect(published).toHaveLength(3);
    for (const binding of published) expect(binding.ip).toBe('127.0.0.1');
    const port = Number(printed[0][2]);
    expect(published.map((b) => b.port)).toContain(port);
    expect(await get(port)).toEqual({ status: 200, body: 'hello from berth\n' });
  }, 90_000);

  test('an edit of the TaskDefinition file rolls out web:2', async () => {
    const file = path.join(dir, '10-taskdefinition-web.yaml');
    const before = readFileSync(file, 'utf8');
    const after = before.replace(/(- name: GREETING\n\s+value:) hello$/m, '$1 bonjour');
    expect(after).not.toBe(before);
    const mark = local.stdout.length;
    writeFileSync(file, after);
    const since = () => lines(local.stdout.slice(mark));

    await waitFor(
      () => since().includes('taskdefinition/default/web: web:2 ACTIVE'),
      'web:2 ACTIVE',
      20_000,
      () => failure('last seen:'),
    );
    // The rollout is over when the three web:2 tasks run, the web:1 containers have stopped (the examples'
    // containers ignore SIGTERM, so each stop wave waits for the 30 s default stopTimeout), and the
    // service counts 3 running again.
    await waitFor(
      async () => {
        const out = since();
        const runningNew = new Set(out.map((l) => /^task\/default\/(web-\S+): web:2 RUNNING /.exec(l)?.[1]).filter(Boolean));
        const serviceLines = out.filter((l) => l.startsWith('service/default/web: '));
        const up = runningOnly(await clusterContainers(cluster));
        return (
          runningNew.size === 3 &&
          serviceLines[serviceLines.length - 1] === 'service/default/web: web desired 3, running 3, pending 0' &&
          named(ofRevision(up, 'web:1'), 'web').length === 0 &&
          named(ofRevision(up, 'web:2'), 'web').length === 3
        );
      },
      'the web:2 rollout to finish (3 web:2 tasks RUNNING, no web:1 container running, service running 3)',
      120_000,
      () => failure('last seen:'),
      1000,
    );
    const up = runningOnly(await clusterContainers(cluster));
    expect(describe_(named(up, 'web'))).toBe(describe_(ofRevision(named(up, 'web'), 'web:2')));
    expect(named(ofRevision(up, 'web:2'), 'log-shipper')).toHaveLength(3);
    // The new environment reached the containers, and they serve.
    for (const info of named(up, 'web')) {
      const inspection = await docker.getContainer(info.Id).inspect();
      expect(inspection.Config.Env).toContain('GREETING=bonjour');
      const port = info.Ports.find((p) => p.PrivatePort === 8080)!.PublicPort;
      expect(await get(port)).toEqual({ status: 200, body: 'hello from berth\n' });
    }
  }, 180_000);

  test('the api service runs on Fargate, selected by the profile: two tasks on container port 8080, each answering on its own port', async () => {
    await waitFor(
      () => lines(local.stdout).includes('service/default/api: api desired 2, running 2, pending 0'),
      'service api: running 2',
      60_000,
      () => failure('last seen:'),
    );
    const printed = lines(local.stdout)
      .map((l) => /^task\/default\/(api-\S+): api:1 RUNNING on FARGATE 127\.0\.0\.1:(\d+)->8080\/api/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    const ports = new Set(printed.map((m) => Number(m[2])));
    expect(new Set(printed.map((m) => m[1])).size).toBe(2);
    expect(ports.size).toBe(2);
    for (const port of ports) expect(await get(port)).toEqual({ status: 200, body: 'hello from the api, on Fargate\n' });
    // No instance holds them: the Fargate pool's containers carry the cluster's Fargate scope.
    const api = named(runningOnly(await clusterContainers(cluster)), 'api');
    expect(api).toHaveLength(2);
    for (const container of api) expect(container.Labels[labels.containerInstance]).toMatch(new RegExp(`^fargate\\.default\\.${cluster}\\.[0-9a-f-]{36}$`));
  }, 90_000);

  test('the DAEMON service runs one node-exporter task per instance', async () => {
    const instances = new Set(
      lines(local.stdout)
        .map((l) => new RegExp(`^containerinstance/default/(${cluster}-general-\\d+): `).exec(l)?.[1])
        .filter(Boolean),
    );
    expect([...instances].sort()).toEqual([`${cluster}-general-0`, `${cluster}-general-1`]);
    // Its health check runs every 30 s (the default), so RUNNING comes later than web's; by now it has.
    await waitFor(
      () => lines(local.stdout).includes('service/default/node-exporter: node-exporter one per instance, running 2, pending 0'),
      'service node-exporter: running 2',
      45_000,
      () => failure('last seen:'),
    );
    const exporters = named(runningOnly(await clusterContainers(cluster)), 'exporter');
    // Each instance's scope: namespace, name and the ContainerInstance's uid (this Berth's identity for it).
    const scopes = exporters.map((c) => c.Labels[labels.containerInstance]).sort();
    expect(scopes).toHaveLength(2);
    expect(scopes[0]).toMatch(new RegExp(`^default\\.${cluster}-general-0\\.[0-9a-f-]{36}$`));
    expect(scopes[1]).toMatch(new RegExp(`^default\\.${cluster}-general-1\\.[0-9a-f-]{36}$`));
    expect(new Set(exporters.map((c) => c.Labels[labels.taskUid])).size).toBe(2);
    // The web rollout did not touch it.
    expect(exporters.map((c) => c.Labels[labels.taskDefinition])).toEqual(['node-exporter:1', 'node-exporter:1']);
  }, 60_000);

  test('SIGTERM: exits 0 and removes every container of the cluster', async () => {
    local.signal('SIGTERM');
    const exit = await local.waitForExit(60_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(describe_(await clusterContainers(cluster))).toBe('');
  }, 90_000);
});
