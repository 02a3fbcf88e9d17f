import { existsSync, watch as watchDirectory } from 'node:fs';
import * as path from 'node:path';
import Dockerode from 'dockerode';
import { AgentHost } from '../agent/agent-host';
import { inProcessInstanceProviders, runtimeFactories } from '../agent/instance-providers';
import { berthResourceTypes, resourceTypeFor, services, validatorFor, type ContainerInstance, type Service, type Task, type TaskDefinition } from '../api';
import { addControllers } from '../controllers';
import { applyManifests, ApplyOutcome } from '../local/apply';
import { readManifests } from '../local/manifests';
import { createLogger, LogLevel } from '../runtime/logger';
import { Manager } from '../runtime/manager';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { eventually } from '../runtime/eventually';
import { parseBindAddress } from './bind-address';

export interface LocalFlags {
  dir?: string;
  /** Run every managed node group on this provider, whatever the manifests say (`simulated` needs no Docker). */
  provider?: 'simulated';
  logLevel: LogLevel;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  /** Apply once, print what was reconciled, exit. */
  once: boolean;
  /** Auto scaling's datapoint period, and how often task usage is reported; 1 minute when absent. */
  metricsPeriodMs?: number;
}

type Print = (line: string) => void;

/**
 * `berth local`: the same controllers as the operator, on the embedded store, fed from a
 * directory of manifests that is re-applied whenever it changes.
 */
export async function runLocal(flags: LocalFlags, print: Print = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const dir = path.resolve(flags.dir ?? defaultManifestDir());
  if (!existsSync(dir)) {
    print(`berth local: no manifest directory at ${dir}`);
    return 2;
  }
  // Controller logs go to stderr as JSON; stdout carries the human-readable account of what happens.
  const logger = createLogger({ level: flags.logLevel, stream: process.stderr });
  const store = new MemoryStore({ validatorFor });
  const manager = new Manager({
    store,
    logger,
    metricsServer: parseBindAddress('metrics-bind-address', flags.metricsBindAddress),
    healthServer: parseBindAddress('health-probe-bind-address', flags.healthProbeBindAddress),
    leaderElection: false,
  });
  const runtimeOptions = { logger: logger.child({ component: 'runtime' }) };
  const runtimes = runtimeFactories(runtimeOptions);
  // Fargate tasks run on the same engine as the node groups: Docker, or simulated with --provider simulated.
  const agents = new AgentHost({
    manager,
    fargateRuntime: flags.provider === 'simulated' ? runtimes.simulated : runtimes.docker,
    metricsPeriodMs: flags.metricsPeriodMs,
  });
  const providers = inProcessInstanceProviders(agents, runtimeOptions);
  if (flags.provider === 'simulated') {
    print('berth local: every managed node group runs on the simulated provider (no containers)');
  } else {
    const problem = await dockerProblem();
    if (problem) {
      print(`berth local: no Docker engine reachable (${problem}).`);
      print('berth local: node groups with provider local cannot run tasks; run `berth local --provider simulated` to simulate them instead.');
      return 3;
    }
  }
  addControllers(manager, {
    instanceProviders: flags.provider === 'simulated' ? { local: providers.simulated, simulated: providers.simulated } : providers,
    metricsPeriodMs: flags.metricsPeriodMs,
  });
  reportStatusChanges(manager, print);

  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown.abort());
  const running = manager.start(shutdown.signal);

  print(`berth local: embedded store, manifests from ${dir}`);
  const apply = async () => {
    const { manifests, errors } = await readManifests(dir);
    for (const error of errors) print(`refused ${error.source}: ${error.message}`);
    for (const outcome of await applyManifests(store, manifests, resourceTypeFor)) print(describeOutcome(outcome));
  };
  await apply();

  if (flags.once) {
    const steady = await eventually(() => allServicesSteady(manager), 'steady services', { timeoutMs: onceTimeoutMs, intervalMs: 100 }).catch(() => false);
    if (!steady) print(`berth local: services not steady after ${onceTimeoutMs / 1000} s; stopping anyway`);
    shutdown.abort();
    await running;
    // The embedded store ends with this process: containers left behind would belong to nothing.
    await agents.stop({ removeContainers: true });
    return 0;
  }
  const watcher = watchDirectory(
    dir,
    debounce(() => void apply().catch((error: Error) => print(`reload failed: ${error.message}`)), 300),
  );
  shutdown.signal.addEventListener('abort', () => watcher.close(), { once: true });
  await running;
  await agents.stop({ removeContainers: true });
  return 0;
}

/** How long `--once` waits for every service to reach a steady state. */
const onceTimeoutMs = 60_000;

function allServicesSteady(manager: Manager): boolean {
  const steady = (service: Service) => service.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const all = manager.informerFor<Service>(services).list();
  return all.length > 0 && all.every(steady);
}

/** Why the local Docker engine cannot be used, or undefined when it answers. */
async function dockerProblem(): Promise<string | undefined> {
  try {
    await new Dockerode().ping();
    return undefined;
  } catch (error) {
    return `${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}: ${(error as Error).message}`;
  }
}

function defaultManifestDir(): string {
  const inWorkingDir = path.resolve('examples');
  // Installed as a package: fall back to the examples shipped beside dist/.
  return existsSync(inWorkingDir) ? inWorkingDir : path.resolve(__dirname, '..', '..', 'examples');
}

function describeOutcome(outcome: ApplyOutcome): string {
  if (outcome.result === 'refused') return `refused ${outcome.key} (${outcome.source}):\n  ${outcome.causes.join('\n  ')}`;
  return `${outcome.result} ${outcome.key}`;
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

/** Prints one line per object whenever its summary changes: what `kubectl get berth -w` would show. */
function reportStatusChanges(manager: Manager, print: Print): void {
  const last = new Map<string, string>();
  for (const type of berthResourceTypes) {
    const informer = manager.informerFor<KubeObject>(type);
    const show = (object: KubeObject) => {
      const id = `${object.kind.toLowerCase()}/${object.metadata.namespace}/${object.metadata.name}`;
      const line = `${id}: ${summarize(object)}`;
      if (last.get(id) === line) return;
      last.set(id, line);
      print(line);
    };
    informer.addEventHandler({
      onAdd: show,
      onUpdate: (_old, object) => show(object),
      onDelete: (object) => {
        last.delete(`${object.kind.toLowerCase()}/${object.metadata.namespace}/${object.metadata.name}`);
        print(`${object.kind.toLowerCase()}/${object.metadata.namespace}/${object.metadata.name}: deleted`);
      },
    });
  }
}

function summarize(object: KubeObject): string {
  const deleting = object.metadata.deletionTimestamp ? ' (deleting)' : '';
  if (object.kind === 'TaskDefinition') {
    const status = (object as TaskDefinition).status;
    if (!status?.revision) return `registering${deleting}`;
    const unresolved = status.conditions?.find((c) => c.type === 'ReferencesResolved' && c.status === 'False');
    return `${status.family}:${status.revision} ${status.status}${deleting}${unresolved ? ` — ${unresolved.message}` : ''}`;
  }
  if (object.kind === 'Task') {
    const task = object as Task;
    const status = task.status;
    const where = task.spec.containerInstance ? ` on ${task.spec.containerInstance}` : task.spec.capacityProviderName === 'FARGATE' ? ' on FARGATE' : '';
    const ports = (status?.containers ?? [])
      .flatMap((c) => (c.networkBindings ?? []).map((b) => `${b.bindIP}:${b.hostPort}->${b.containerPort}/${c.name}`))
      .join(' ');
    const why = status?.lastStatus === 'STOPPED' ? status.stoppedReason : status?.conditions?.find((c) => c.status === 'False')?.message;
    return `${task.spec.taskDefinition} ${status?.lastStatus ?? 'PROVISIONING'}${where}${ports ? ` ${ports}` : ''}${why ? ` — ${why}` : ''}${deleting}`;
  }
  if (object.kind === 'ContainerInstance') {
    const instance = object as ContainerInstance;
    const left = instance.status?.remainingResources;
    return `${instance.spec.status ?? 'ACTIVE'}${instance.status?.agentConnected ? ', agent connected' : ''}${left ? `, ${left.cpu} cpu / ${left.memory} MiB free` : ''}${deleting}`;
  }
  if (object.kind === 'Service') {
    const service = object as Service;
    const desired = service.spec.schedulingStrategy === 'DAEMON' ? 'one per instance' : `desired ${service.spec.desiredCount ?? 1}`;
    return `${service.spec.taskDefinition} ${desired}, running ${service.status?.runningCount ?? 0}, pending ${service.status?.pendingCount ?? 0}${deleting}`;
  }
  return `generation ${object.metadata.generation}${deleting}`;
}
