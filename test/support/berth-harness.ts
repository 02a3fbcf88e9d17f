// The whole Berth control plane in-process against the real kube-apiserver, with in-process agents on
// the real Docker engine of the test environment (test/env/up.sh). Objects are created with the real
// kubectl, as a user would; assertions read Docker's own container list.
//
// One harness per test file, in its own namespace. stop() stops the agents (removing their containers)
// and the manager, then checks that no container labelled with the namespace is left: it removes any it
// finds and fails, so a leak is both reported and cleaned up.
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { AgentHost, type AgentHostOptions } from '../../src/agent/agent-host';
import { fargatePodRuntimes, nodeInstanceProvider } from '../../src/agent/node-instances';
import { inProcessInstanceProviders, runtimeFactories } from '../../src/agent/instance-providers';
import { taskLabels } from '../../src/agent/task-runtime';
import { addControllers } from '../../src/controllers';
import { createLogger, type Logger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import { KubeStore } from '../../src/store/kube/kube-store';
import { RestClient } from '../../src/store/kube/rest-client';
import { KubeExternalMetrics } from '../../src/store/kube/external-metrics';
import { KubeScaleTargets } from '../../src/store/kube/scale-targets';
import { controllerRevisions } from '../../src/store/builtin-types';
import type { KubeObject } from '../../src/store/object-store';
import { services as serviceType, tasks as taskType, type Service, type Task } from '../../src/api';
import { dockerSocketPath, kubectl, kubectlOk, run, testEnv } from '../env/env';
import { eventually as poll } from '../../src/runtime/eventually';

export { taskLabels };

/** A logger whose JSON lines are kept in memory, to assert what was (not) logged. */
export interface LogCapture {
  logger: Logger;
  text(): string;
}

export function captureLogText(level: 'debug' | 'info' = 'debug'): LogCapture {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { logger: createLogger({ level, stream }), text: () => text };
}

export interface Harness {
  namespace: string;
  docker: Dockerode;
  manager: Manager;
  host: AgentHost;
  logs: LogCapture;
  /** `kubectl apply -f -` of a YAML document (or several), in the harness's namespace. */
  apply(yaml: string): Promise<void>;
  /** `kubectl get <resource> -o json`, parsed; undefined when it does not exist. */
  get<T>(resource: string, ...args: string[]): Promise<T | undefined>;
  /** `kubectl get <resource> -o yaml` (for "appears nowhere" checks). */
  yaml(resource: string): Promise<string>;
  /** A line per Service and Task of the namespace with where it stands: what a timed-out wait reports. */
  describe(): Promise<string>;
  /** Every container of this namespace on the engine (Docker's own list), with extra label filters. */
  containers(...labels: string[]): Promise<Dockerode.ContainerInfo[]>;
  /** `docker exec` a command in a container; resolves with its stdout, rejects on a non-zero exit. */
  exec(containerId: string, command: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Prefix of the namespace, e.g. 'svc-replica'. */
  prefix: string;
  statusReportIntervalMs?: number;
  sweepIntervalMs?: number;
  /** How Fargate tasks' ephemeral storage is measured (a test cannot write 20 GiB). */
  fargateStorage?: AgentHostOptions['fargateStorage'];
  /** Serve node groups of Nodes (tasks as Pods on the test node), as berth operator does. */
  nodes?: boolean;
  /** Auto scaling's datapoint period and the agents' usage reports (1 minute by default, as ECS's). */
  metricsPeriodMs?: number;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const env = testEnv();
  const namespace = `${options.prefix}-${randomUUID().slice(0, 6)}`;
  const docker = new Dockerode({ socketPath: dockerSocketPath(env) });
  const logs = captureLogText('debug');

  await kubectlOk(['create', 'namespace', namespace]);
  const config = new KubeConfig();
  config.loadFromFile(env.kubeconfig);
  const kubeStore = new KubeStore(config);
  const manager = new Manager({ store: kubeStore, logger: logs.logger, metricsServer: false, healthServer: false });
  const host = new AgentHost({
    manager,
    statusReportIntervalMs: options.statusReportIntervalMs ?? 1000,
    sweepIntervalMs: options.sweepIntervalMs ?? 2000,
    fargateRuntime: runtimeFactories({ docker, logger: logs.logger }).docker,
    ...(options.fargateStorage ? { fargateStorage: options.fargateStorage } : {}),
    ...(options.metricsPeriodMs !== undefined && { metricsPeriodMs: options.metricsPeriodMs }),
    ...(options.nodes && { fargatePods: fargatePodRuntimes({ manager, podLevelResources: false }) }),
  });
  addControllers(manager, {
    namespace,
    ...(options.metricsPeriodMs !== undefined && { metricsPeriodMs: options.metricsPeriodMs }),
    externalMetrics: new KubeExternalMetrics(new RestClient(config)),
    instanceProviders: inProcessInstanceProviders(host, { docker, logger: logs.logger }),
    ...(options.nodes && {
      nodeInstances: nodeInstanceProvider({ manager, host, namespace, podLevelResources: false }),
      scaleTargets: new KubeScaleTargets(new RestClient(config), manager.store),
    }),
  });
  const running = manager.start();

  const nsFilter = `${taskLabels.namespace}=${namespace}`;
  const containers = (...labels: string[]) => docker.listContainers({ all: true, filters: { label: [nsFilter, ...labels] } });

  const harness: Harness = {
    namespace,
    docker,
    manager,
    host,
    logs,
    apply: async (yaml) => {
      await kubectlOk(['apply', '-n', namespace, '-f', '-'], yaml);
    },
    get: async <T>(resource: string, ...args: string[]) => {
      const result = await kubectl(['get', resource, ...args, '-n', namespace, '-o', 'json']);
      if (result.code !== 0) {
        if (/NotFound|not found/.test(result.stderr)) return undefined;
        throw new Error(`kubectl get ${resource} exited ${result.code}: ${result.stderr.trim()}`);
      }
      return JSON.parse(result.stdout) as T;
    },
    yaml: (resource) => kubectlOk(['get', resource, '-n', namespace, '-o', 'yaml']),
    describe: async () => {
      const { items: services } = await kubeStore.list<Service>(serviceType, namespace);
      const { items: tasks } = await kubeStore.list<Task>(taskType, namespace);
      const serviceLines = services.map((s) => {
        const deployments = (s.status?.deployments ?? []).map(
          (d) => `${d.taskDefinition} ${d.status} ${d.rolloutState} run ${d.runningCount} pend ${d.pendingCount}`,
        );
        const conditions = (s.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`);
        return `service ${s.metadata.name}: ${deployments.join('; ')} | ${conditions.join(' | ')}`;
      });
      const taskLines = tasks.map(
        (t) =>
          `task ${t.metadata.name} ${t.spec.taskDefinition} desired ${t.spec.desiredStatus} last ${t.status?.lastStatus} health ${t.status?.healthStatus} on ${t.spec.containerInstance} admitted ${t.metadata.annotations?.['berth.dev/admitted']} ${t.status?.stoppedReason ?? ''}`,
      );
      return [...serviceLines, ...taskLines].join('\n');
    },
    containers,
    exec: async (containerId, command) => {
      const result = await run('docker', ['exec', containerId, ...command], { env: { ...process.env, DOCKER_HOST: env.dockerHost }, timeoutMs: 15_000 });
      if (result.code !== 0) throw new Error(`docker exec ${command.join(' ')} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    },
    stop: async () => {
      const problems: string[] = [];
      await host.stop({ removeContainers: true }).catch((error: Error) => problems.push(`host.stop: ${error.message}`));
      await manager.stop();
      await running.catch((error: Error) => problems.push(`manager: ${error.message}`));

      // Nothing of this namespace may be left on the engine; what is left is removed, then reported.
      const leftovers = await containers();
      for (const c of leftovers)
        await docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      const { Volumes: volumes } = await docker.listVolumes({ filters: { label: [nsFilter] } });
      for (const v of volumes ?? [])
        await docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined);

      // No controller runs any more: let the namespace go without waiting for Berth's finalizers.
      const objects = await kubectl(['get', 'berth', '-n', namespace, '-o', 'name']);
      for (const name of objects.stdout.split('\n').filter(Boolean)) {
        await kubectl(['patch', name, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      }
      // Revisions too; by update, as the API server refuses a patch that re-encodes a revision's immutable data.
      const { items: revisions } = await kubeStore.list<KubeObject>(controllerRevisions, namespace);
      for (const revision of revisions.filter((r) => (r.metadata.finalizers ?? []).length > 0)) {
        await kubeStore.update(controllerRevisions, { ...revision, metadata: { ...revision.metadata, finalizers: [] } }).catch(() => undefined);
      }
      await kubectl(['delete', 'namespace', namespace, '--wait=false']);

      if (leftovers.length > 0) problems.push(`containers left on the engine: ${leftovers.map((c) => `${c.Names.join(',')} (${c.State})`).join('; ')}`);
      if ((volumes ?? []).length > 0) problems.push(`volumes left on the engine: ${(volumes ?? []).map((v) => v.Name).join(', ')}`);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    },
  };
  return harness;
}

/** The project's polling helper with the pace of Docker-backed tests: a minute, four looks a second. */
export function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 250,
  detail?: () => Promise<string>,
): Promise<T> {
  return poll(probe, what, { timeoutMs, intervalMs, ...(detail ? { detail } : {}) });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A Cluster with one managed node group of `provider: local` instances. */
export function clusterYaml(name: string, desiredSize: number, instanceType = { cpu: 4096, memory: 4096 }): string {
  return `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: local
      instanceType: { cpu: ${instanceType.cpu}, memory: ${instanceType.memory} }
      scaling: { minSize: 0, desiredSize: ${desiredSize}, maxSize: ${Math.max(desiredSize, 2)} }
      availabilityZones: [zone-a, zone-b]
`;
}

/** Waits until the cluster's instances are registered and their agents heartbeat. */
export async function waitForInstances(harness: Harness, count: number): Promise<string[]> {
  return eventually(async () => {
    const list = await harness.get<{ items: { metadata: { name: string }; status?: { agentConnected?: boolean } }[] }>('containerinstances');
    const connected = (list?.items ?? []).filter((i) => i.status?.agentConnected);
    return connected.length === count ? connected.map((i) => i.metadata.name) : undefined;
  }, `${count} connected container instances`);
}

/** Docker's list Status carries the health check result, e.g. "Up 8 seconds (healthy)". */
export const isHealthy = (c: Dockerode.ContainerInfo) => c.State === 'running' && /\(healthy\)/.test(c.Status);
export const isRunning = (c: Dockerode.ContainerInfo) => c.State === 'running';
/** Created, running, paused or restarting: holds its task's place (not exited, not dead). */
export const isLive = (c: Dockerode.ContainerInfo) => c.State !== 'exited' && c.State !== 'dead';
export const labelOf = (c: Dockerode.ContainerInfo, label: string) => c.Labels[label] ?? '';

/**
 * Samples Docker's own container list every `intervalMs` until stopped: each sample is one list call
 * (a consistent snapshot), reduced by `measure`. Bounded by `maxSamples`.
 */
export function sampleContainers<T>(
  harness: Harness,
  labels: string[],
  measure: (containers: Dockerode.ContainerInfo[]) => T,
  options: { intervalMs?: number; maxSamples?: number } = {},
): { stop(): Promise<T[]> } {
  const samples: T[] = [];
  let stopped = false;
  const loop = (async () => {
    const maxSamples = options.maxSamples ?? 5_000;
    while (!stopped && samples.length < maxSamples) {
      samples.push(measure(await harness.containers(...labels)));
      await sleep(options.intervalMs ?? 100);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return samples;
    },
  };
}
