import type { Writable } from 'node:stream';
import { containerInstances, fargateCapacityProvider, tasks, type ContainerInstance, type Task } from '../api';
import { podName } from '../agent/runtime/kubernetes/pod-spec';
import { podLabels, type PodObject } from '../ecs/pods';
import { pods } from '../store/builtin-types';
import { isStoreError, type ObjectStore } from '../store/object-store';
import type { Connection, ConnectionFlags } from './connection';

export interface LogsFlags extends ConnectionFlags {
  /** The task's name (from `task/NAME`). */
  name: string;
  /** The ECS container name; needed when the task has several containers. */
  container?: string;
  /** Keep printing new lines until the container stops (or Ctrl-C). */
  follow: boolean;
  /** Only the last N lines. */
  tail?: number;
}

export interface LogRequest {
  follow: boolean;
  tail?: number;
}

/** Where container logs are read: the API server for Pods, a Docker engine for containers. */
export interface LogSources {
  /** Streams a Pod container's log (the `log` subresource) into `out`; resolves when it ends. */
  podLog(namespace: string, pod: string, container: string, request: LogRequest, out: Writable): Promise<void>;
  /** The Docker engine this command reaches, as the user named it (DOCKER_HOST or the default socket). */
  readonly engine: string;
  /** The engine's containers of a task, by the task-uid label the Docker runtime sets, with their ECS container name. */
  dockerContainers(taskUid: string): Promise<{ id: string; container: string; created: number }[]>;
  /** Streams a container's log, its stdout to `out` and its stderr to `err` as `docker logs` does; resolves when it ends. */
  dockerLog(id: string, request: LogRequest, out: Writable, err: Writable): Promise<void>;
}

export interface LogsOutput {
  stdout: Writable;
  stderr: Writable;
  /** A line of this command's own (an error), on stderr. */
  err(line: string): void;
}

/** Why the log cannot be shown, worded for the user (exit 1). */
class LogsError extends Error {}

/**
 * `berth logs task/NAME [-c CONTAINER] [-f] [--tail N]`. The task's data plane decides where its log
 * is: a task run as a Pod (on a node group of Nodes, or a Fargate profile's Pods) → the Pod's log
 * through the API server, its container named as pod-spec.ts names it; otherwise the containers the
 * Docker runtime labelled with the task's uid, on the engine this command reaches. Only what the
 * container wrote is printed: no environment, no task definition.
 */
export async function runLogs(flags: LogsFlags, output: LogsOutput, connection: Connection, sources: LogSources): Promise<number> {
  try {
    await showLogs(connection, flags, output, sources);
    return 0;
  } catch (error) {
    if (error instanceof LogsError) output.err(error.message);
    else if (isStoreError(error)) output.err(`Error from server${error.reason === 'NotFound' ? ' (NotFound)' : ''}: ${error.message}`);
    else throw error;
    return 1;
  }
}

async function showLogs({ store, namespace }: Connection, flags: LogsFlags, output: LogsOutput, sources: LogSources): Promise<void> {
  const task = await store.get<Task>(tasks, namespace, flags.name);
  if (!task) throw new LogsError(`Error from server (NotFound): tasks.berth.dev "${flags.name}" not found`);
  const container = chooseContainer(task, flags.container);
  const request: LogRequest = { follow: flags.follow, ...(flags.tail !== undefined && { tail: flags.tail }) };
  const plane = await dataPlaneOf(store, task);
  if (plane === 'pod') {
    await sources.podLog(namespace, task.metadata.name, podName(container), request, output.stdout);
    return;
  }
  const listed = await sources.dockerContainers(task.metadata.uid!).catch((error: Error) => {
    throw new LogsError(`error: cannot reach the Docker engine (${sources.engine}) for task ${flags.name}: ${error.message}`);
  });
  const candidates = listed.filter((c) => c.container === container);
  const newest = candidates.sort((a, b) => b.created - a.created)[0];
  if (!newest) {
    const where = task.spec.containerInstance ? `container instance ${task.spec.containerInstance}` : 'the Fargate pool of its cluster';
    throw new LogsError(
      `error: container ${container} of task ${flags.name} is not on this Docker engine (${sources.engine}): the task runs on ${where}; ` +
        'point DOCKER_HOST at that engine',
    );
  }
  await sources.dockerLog(newest.id, request, output.stdout, output.stderr);
}

/** kubectl's rule: -c names one of the task's containers; without it, the task must have only one. */
function chooseContainer(task: Task, wanted: string | undefined): string {
  const names = (task.status?.containers ?? []).map((c) => c.name);
  const name = task.metadata.name;
  if (names.length === 0) throw new LogsError(`error: task ${name} has no containers yet (lastStatus ${task.status?.lastStatus ?? 'PROVISIONING'})`);
  if (wanted !== undefined) {
    if (!names.includes(wanted)) throw new LogsError(`error: container ${wanted} is not valid for task ${name}, choose one of: [${names.join(' ')}]`);
    return wanted;
  }
  if (names.length > 1) throw new LogsError(`error: a container name must be specified for task ${name}, choose one of: [${names.join(' ')}]`);
  return names[0];
}

/**
 * A task runs as a Pod when a Pod of its name carries its uid (the Kubernetes runtime labels them so);
 * a task bound to an instance that mirrors a Node whose Pod is gone has no log left to read. Every other
 * placed task runs on a Docker engine: a Docker instance's, or the Fargate pool's.
 */
async function dataPlaneOf(store: ObjectStore, task: Task): Promise<'pod' | 'docker'> {
  const { namespace, name, uid } = task.metadata;
  const pod = await store.get<PodObject>(pods, namespace, name);
  if (pod && pod.metadata.labels?.[podLabels.taskUid] === uid) return 'pod';
  const instanceName = task.spec.containerInstance;
  if (instanceName !== undefined) {
    const instance = await store.get<ContainerInstance>(containerInstances, namespace, instanceName);
    if (instance?.spec.nodeName !== undefined)
      throw new LogsError(`error: the Pod of task ${name} on node ${instance.spec.nodeName} is gone, and its log with it`);
    return 'docker';
  }
  if (task.spec.capacityProviderName === fargateCapacityProvider) return 'docker';
  throw new LogsError(`error: task ${name} is not placed yet (lastStatus ${task.status?.lastStatus ?? 'PROVISIONING'})`);
}
