/**
 * One case in a process of its own, started by the runner (bench/main.ts): `case-process.ts NAME SCALE`.
 * It runs the case, sends each measurement, note and owned resource to the runner over IPC, and runs
 * every cleanup the case registered — after success, failure, or a stop message from the runner. Its
 * own process means the runner's clock keeps ticking even when a case monopolises the event loop, and
 * each case starts from a clean heap.
 */
import type { CaseContext } from './support/bench-case';
import type { CaseMessage, StopMessage } from './support/protocol';
import { log } from './support/report';
import { cases } from './cases';

function send(message: CaseMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

async function main(): Promise<number> {
  const [name, scaleArg] = process.argv.slice(2);
  const benchCase = cases.find((c) => c.name === name);
  if (!benchCase || !process.send) throw new Error(`case-process: started without a known case (${name}) or an IPC channel`);
  const stop = new AbortController();
  process.on('message', (message: StopMessage) => stop.abort(new Error(message.reason)));
  // Ctrl-C reaches the whole process group: stop as the runner would ask.
  process.once('SIGINT', () => stop.abort(new Error('interrupted')));
  // A stray rejection inside the control plane must not end the case without its cleanups: it is reported, and the case's own wait times out.
  process.on('unhandledRejection', (reason) =>
    log(`${name}: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`),
  );

  const cleanups: (() => Promise<void> | void)[] = [];
  const context: CaseContext = {
    signal: stop.signal,
    scale: Number(scaleArg),
    defer: (cleanup) => void cleanups.push(cleanup),
    note: (details) => void send({ type: 'note', details }),
    owns: (resource) => void send({ type: 'owns', resource }),
  };
  let code = 0;
  try {
    for (const measurement of await benchCase.run(context)) await send({ type: 'result', measurement });
  } catch (error) {
    const cause: unknown = stop.signal.aborted ? stop.signal.reason : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    await send({ type: 'failed', error: message });
    if (!stop.signal.aborted) log(`${name}: ${cause instanceof Error ? (cause.stack ?? message) : message}`);
    code = 1;
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      log(`${name}: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      code = 1;
    }
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(`case-process: ${error.message}`);
    process.exit(2);
  },
);
