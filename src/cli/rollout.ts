import { SingleBar } from 'cli-progress';
import { services, type Service } from '../api';
import { realClock, type Clock } from '../runtime/clock';
import type { ObjectStore } from '../store/object-store';
import { connect, type ConnectionFlags, type Lines } from './connection';
import { rolloutProgress, type RolloutProgress } from './rollout-progress';

export interface RolloutStatusFlags extends ConnectionFlags {
  /** The service's name (from `service/NAME`). */
  name: string;
  /** Give up after this long (exit 1), as kubectl rollout status --timeout; none by default. */
  timeoutMs?: number;
}

export interface RolloutOutput extends Lines {
  /** A terminal: a live progress bar; otherwise a line per change, as kubectl writes to a pipe. */
  tty?: NodeJS.WriteStream;
}

/** `berth rollout status service/NAME`: follows the PRIMARY deployment until COMPLETED (exit 0) or FAILED (exit 1). */
export async function runRolloutStatus(flags: RolloutStatusFlags, output: RolloutOutput): Promise<number> {
  const { store, namespace } = connect(flags);
  return followRollout(store, namespace, flags.name, output, flags.timeoutMs);
}

/**
 * Reads the Service, shows where its rollout stands, and waits for its next change through a watch on it
 * alone (a field selector on its name), until the rollout ends or `timeoutMs` passes.
 */
export async function followRollout(
  store: ObjectStore,
  namespace: string,
  name: string,
  output: RolloutOutput,
  timeoutMs?: number,
  clock: Clock = realClock,
): Promise<number> {
  const deadline = timeoutMs === undefined ? Infinity : clock.now() + timeoutMs;
  const view = progressView(output);
  try {
    for (;;) {
      const service = await store.get<Service>(services, namespace, name);
      if (!service) {
        output.err(`Error from server (NotFound): services.berth.dev "${name}" not found`);
        return 1;
      }
      const progress = rolloutProgress(service);
      view.show(progress);
      if (progress.state === 'complete') {
        view.end();
        output.out(progress.message);
        return 0;
      }
      if (progress.state === 'failed') {
        view.end();
        output.err(`error: ${progress.message}`);
        return 1;
      }
      if (!(await nextChange(store, service, deadline - clock.now(), clock))) {
        view.end();
        output.err(`error: timed out waiting for service ${name} to finish its rollout (${progress.message})`);
        return 1;
      }
    }
  } finally {
    view.end();
  }
}

/** Resolves true on the Service's next change (or a closed watch: read it again), false after `waitMs`. */
function nextChange(store: ObjectStore, service: Service, waitMs: number, clock: Clock): Promise<boolean> {
  if (waitMs <= 0) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    let settled = false;
    let watch: { stop(): void } | undefined;
    const finish = (changed: boolean) => {
      if (settled) return;
      settled = true;
      if (timer) clock.clearTimeout(timer);
      watch?.stop();
      resolve(changed);
    };
    const timer = Number.isFinite(waitMs) ? clock.setTimeout(() => finish(false), waitMs) : undefined;
    store
      .watch<Service>(
        services,
        service.metadata.namespace,
        { resourceVersion: service.metadata.resourceVersion!, fieldSelector: `metadata.name=${service.metadata.name}` },
        { onEvent: () => finish(true), onClose: () => finish(true) },
      )
      .then(
        (started) => {
          watch = started;
          if (settled) started.stop();
        },
        (error: Error) => {
          if (settled) return;
          settled = true;
          if (timer) clock.clearTimeout(timer);
          reject(error);
        },
      );
  });
}

/** A progress bar on a terminal (cli-progress), else one line per change of the message. */
function progressView(output: RolloutOutput): { show(progress: RolloutProgress): void; end(): void } {
  let last = '';
  if (!output.tty) {
    return {
      show: (progress) => {
        if (progress.state === 'complete' || progress.state === 'failed' || progress.message === last) return;
        last = progress.message;
        output.out(progress.message);
      },
      end: () => undefined,
    };
  }
  let bar: SingleBar | undefined;
  return {
    show: (progress) => {
      if (progress.state === 'waiting') return;
      bar ??= new SingleBar({
        stream: output.tty,
        format: '{revision} [{bar}] {value}/{total} tasks running {detail}',
        hideCursor: true,
        clearOnComplete: false,
      });
      const detail = progress.state === 'progressing' ? progress.message.replace(/^.*?: /, '').replace(/\.\.\.$/, '') : '';
      if (!bar.isActive) bar.start(progress.desired, progress.running, { revision: progress.revision, detail });
      bar.setTotal(progress.desired);
      bar.update(progress.running, { revision: progress.revision, detail });
    },
    end: () => {
      if (bar?.isActive) bar.stop();
    },
  };
}
