/**
 * Docker's event stream, narrowed to the lifecycle events of this instance's containers and turned
 * into "task X changed" notifications. The stream ends whenever the engine restarts or the connection
 * drops; it is reopened with backoff, from the time of the last event seen so nothing in the gap is lost
 * (an event seen twice only costs the agent one extra idempotent step).
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
    logger.warn('docker event stream lost; reconnecting', { why, retryInMs: backoffMs });
    retry = clock.setTimeout(() => void connect(), backoffMs);
    backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
  };

  const connect = async (): Promise<void> => {
    retry = undefined;
    const filters = { type: ['container' as const], label: [labelFilter(taskLabels.containerInstance, containerInstance)] };
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
