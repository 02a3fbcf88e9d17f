/**
 * Docker's event stream, narrowed to the lifecycle events of this instance's containers and turned
 * into "task X changed" notifications. The stream ends whenever the engine restarts or the connection
 * drops; it is reopened with backoff, from the time of the last event seen (an event seen twice only
 * costs the agent one extra idempotent step).
 *
 * `since` only replays what the engine answering now remembers: a restarted dockerd knows nothing of
 * what its predecessor did after the stream broke, and keeps only its last 256 events (those of its own
 * restore, which kills the containers a killed dockerd left running, among them). So once a stream is
 * open again, every task with a container on the engine is reported changed, as an informer relists
 * after a broken watch: a container that died in the gap is seen by the agent's next step, not never.
 */
import type Dockerode from 'dockerode';
import type { Clock, TimerHandle } from '../../../runtime/clock';
import type { Logger } from '../../../runtime/logger';
import { taskLabels } from '../../task-runtime';
import { labelFilter } from './labels';

const lifecycleActions = new Set(['create', 'start', 'die', 'oom', 'kill', 'stop', 'destroy', 'health_status']);
const initialBackoffMs = 250;
const maxBackoffMs = 10_000;

interface DockerEvent {
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
  time?: number;
}

export interface ContainerEventsOptions {
  docker: Dockerode;
  containerInstance: string;
  clock: Clock;
  logger: Logger;
  onChange: (taskUid: string) => void;
}

export function watchContainerEvents(options: ContainerEventsOptions): { stop(): void } {
  const { docker, containerInstance, clock, logger, onChange } = options;
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let retry: TimerHandle | undefined;
  let backoffMs = initialBackoffMs;
  let since: number | undefined;

  const handle = (line: string): void => {
    if (line.trim() === '') return;
    let event: DockerEvent;
    try {
      event = JSON.parse(line) as DockerEvent;
    } catch {
      return;
    }
    if (event.time !== undefined) since = event.time;
    // health_status actions read "health_status: healthy".
    const action = (event.Action ?? '').split(':')[0];
    const taskUid = event.Actor?.Attributes?.[taskLabels.taskUid];
    if (taskUid !== undefined && lifecycleActions.has(action)) onChange(taskUid);
  };

  const reconnect = (stream: NodeJS.ReadableStream | undefined, why: string): void => {
    if (stopped || stream !== current) return; // already handled for this stream
    current = undefined;
    lostOnce = true;
    logger.warn('docker event stream lost; reconnecting', { why, retryInMs: backoffMs });
    retry = clock.setTimeout(() => void connect(), backoffMs);
    backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
  };

  const filters = { type: ['container' as const], label: [labelFilter(taskLabels.containerInstance, containerInstance)] };
  let lostOnce = false;

  /** Every task with a container of this instance on the engine, reported changed (after the stream is open: no gap between). */
  const resync = async (): Promise<void> => {
    try {
      const listed = await docker.listContainers({ all: true, filters: { label: filters.label } });
      const uids = new Set(listed.flatMap((c) => c.Labels?.[taskLabels.taskUid] ?? []));
      uids.forEach((uid) => onChange(uid));
    } catch (error) {
      // The stream fails too, and its reconnection resyncs again.
      logger.warn('listing containers after reconnecting failed', { error: (error as Error).message });
    }
  };

  const connect = async (): Promise<void> => {
    retry = undefined;
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.getEvents(since === undefined ? { filters } : { since, filters });
    } catch (error) {
      return reconnect(undefined, (error as Error).message); // no stream was current: always reconnects
    }
    if (stopped) return destroy(stream);
    current = stream;
    since ??= Math.floor(clock.now() / 1000);
    let buffered = '';
    stream.on('data', (chunk: Buffer | string) => {
      backoffMs = initialBackoffMs;
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      lines.forEach(handle);
    });
    stream.on('end', () => reconnect(stream, 'the engine ended the stream'));
    stream.on('error', (error: Error) => reconnect(stream, error.message));
    if (lostOnce) await resync();
  };

  void connect();
  return {
    stop(): void {
      stopped = true;
      if (retry) clock.clearTimeout(retry);
      if (current) destroy(current);
      current = undefined;
    },
  };
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as unknown as { destroy(): void }).destroy();
}
