/**
 * `npm run bench [-- NAME...] [--scale F] [--profile DIR] [--list]`: runs every benchmark case (or those
 * named), one after the other, each in a process of its own (bench/case-process.ts) under its own time
 * bound. stdout gets one JSON object per line — a measurement, or a case's error with what it had
 * measured — and nothing else; progress goes to stderr.
 *
 * A case out of time is asked to stop (it unwinds and cleans up); one that does not exit within a grace
 * period — a case can hold its event loop for minutes — is killed, and the runner removes what it had
 * declared it owns. Either way the run carries on with the next case. With --profile, each case runs
 * under `node --cpu-prof` and its profile lands in DIR/<case>.cpuprofile (`npm run bench:profile`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { cases } from './cases';
import type { BenchCase } from './support/bench-case';
import { removeContainersOf } from './support/docker';
import { deleteNamespace, kubeEnvironment } from './support/environment';
import type { CaseMessage, OwnedResource, StopMessage } from './support/protocol';
import { errorLine, log, printLine, resultLine, type Measurement } from './support/report';

/** How long a case asked to stop gets to unwind and clean up before it is killed. */
const unwindGraceMs = 5 * 60_000;
/** The least fraction of a case's time bound a `--scale` run gets. */
const minimumBoundFraction = 0.25;
/** The sampling interval of --profile, in µs: a 60-minute case stays a file of a few MB. */
const profileIntervalUs = 10_000;

const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupted.abort(new Error(`interrupted by ${signal}`)));

interface Outcome {
  measurements: Measurement[];
  failure?: string;
  notes: Record<string, unknown>;
  owned: OwnedResource[];
}

/** Runs one case in its own process and collects what it reports. */
function runInProcess(benchCase: BenchCase, scale: number, profileDir: string | undefined): Promise<Outcome> {
  const outcome: Outcome = { measurements: [], notes: {}, owned: [] };
  const profiling =
    profileDir === undefined
      ? []
      : [
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          `--cpu-prof-name=${benchCase.name.replace(/\//g, '_')}.cpuprofile`,
          `--cpu-prof-interval=${profileIntervalUs}`,
        ];
  const child: ChildProcess = fork(path.join(__dirname, 'case-process.ts'), [benchCase.name, String(scale)], {
    execArgv: [...process.execArgv, ...profiling],
    // The child's stdout goes to our stderr: only the runner writes JSON lines.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout!.pipe(process.stderr);
  child.on('message', (message: CaseMessage) => {
    if (message.type === 'result') outcome.measurements.push(message.measurement);
    else if (message.type === 'note') Object.assign(outcome.notes, message.details);
    else if (message.type === 'owns') outcome.owned.push(message.resource);
    else outcome.failure = message.error;
  });

  let stopReason: string | undefined;
  const stop = (reason: string) => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    log(`${benchCase.name}: ${reason}, stopping it`);
    child.send({ type: 'stop', reason } satisfies StopMessage);
    killTimer = setTimeout(() => {
      log(`${benchCase.name}: still running ${unwindGraceMs / 1000} s after being asked to stop; killing it`);
      child.kill('SIGKILL');
    }, unwindGraceMs);
  };
  let killTimer: NodeJS.Timeout | undefined;
  // A scaled run keeps at least a quarter of the bound: provisioning, baselines and waits on a shared
  // machine do not shrink in proportion to the task count.
  const boundMs = benchCase.timeoutMs * Math.max(minimumBoundFraction, Math.min(1, scale));
  const timeout = setTimeout(() => stop(`timed out after ${boundMs / 1000} s`), boundMs);
  const onInterrupt = () => stop(String((interrupted.signal.reason as Error).message));
  interrupted.signal.addEventListener('abort', onInterrupt, { once: true });

  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      interrupted.signal.removeEventListener('abort', onInterrupt);
      if (outcome.measurements.length === 0)
        outcome.failure = stopReason ?? outcome.failure ?? `the case process exited (${signal ?? `code ${code}`}) without a result`;
      resolve(outcome);
    });
  });
}

/** Removes whatever a case declared it owns; a no-op for what its own cleanups already removed. */
async function removeLeftovers(owned: OwnedResource[]): Promise<void> {
  for (const resource of owned) {
    if (resource.on === 'kube-apiserver') {
      await deleteNamespace((await kubeEnvironment()).newStore(), resource.namespace);
    } else {
      const removed = await removeContainersOf((await kubeEnvironment()).docker(), resource.namespace);
      if (removed > 0) log(`removed ${removed} containers left behind in ${resource.namespace}`);
    }
  }
}

async function runCase(benchCase: BenchCase, scale: number, profileDir: string | undefined): Promise<boolean> {
  const started = performance.now();
  log(`${benchCase.name}: start`);
  const outcome = await runInProcess(benchCase, scale, profileDir);
  const scaled = scale === 1 ? {} : { scale };
  for (const measurement of outcome.measurements) printLine(resultLine({ ...measurement, details: { ...measurement.details, ...scaled } }));
  if (outcome.failure !== undefined) {
    printLine(errorLine(benchCase.name, outcome.failure, { ...outcome.notes, ...scaled }));
    log(`${benchCase.name}: FAILED: ${outcome.failure}`);
  }
  let clean = true;
  await removeLeftovers(outcome.owned).catch((error: Error) => {
    log(`${benchCase.name}: removing what it left failed: ${error.message}`);
    clean = false;
  });
  log(`${benchCase.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return outcome.failure === undefined && clean;
}

function select(names: string[]): BenchCase[] {
  if (names.length === 0) return cases;
  const matches = (c: BenchCase, name: string) => c.name === name || c.name.startsWith(`${name}/`);
  const unknown = names.filter((name) => !cases.some((c) => matches(c, name)));
  if (unknown.length > 0) throw new Error(`no such case: ${unknown.join(', ')} (cases: ${cases.map((c) => c.name).join(', ')})`);
  return cases.filter((c) => names.some((name) => matches(c, name)));
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { scale: { type: 'string', default: '1' }, profile: { type: 'string' }, list: { type: 'boolean', default: false } },
  });
  if (values.list) {
    for (const c of cases) process.stderr.write(`${c.name}\n`);
    return 0;
  }
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--scale: ${values.scale} is not in (0, 1]`);
  const profileDir = values.profile === undefined ? undefined : path.resolve(values.profile);
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  const selected = select(positionals);
  let failures = 0;
  for (const benchCase of selected) {
    if (interrupted.signal.aborted) break;
    if (!(await runCase(benchCase, scale, profileDir))) failures++;
  }
  if (interrupted.signal.aborted) return 130;
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  },
);
