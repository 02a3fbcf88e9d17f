/**
 * `npm run bench [-- NAME...] [--scale F] [--profile DIR]`: runs every benchmark case (or those named), one after the
 * other, each under its own time bound. stdout gets one JSON object per line — a measurement, or a
 * case's error — and nothing else; progress goes to stderr. A case that fails or times out reports
 * an error line and the run carries on; whatever a case set up is cleaned up either way. With
 * --profile, each case's CPU profile is written to DIR/<case>.cpuprofile.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchCase, CaseContext } from './support/bench-case';
import { errorLine, log, printLine, resultLine } from './support/report';
import { cases } from './cases';
import { startCpuProfile } from './support/profiler';

/** How long a case that ignores its abort signal gets to unwind before the runner moves on (and cleans up anyway). */
const unwindGraceMs = 30_000;

/** Ctrl-C or SIGTERM ends the case in progress as a timeout does — its cleanups run — and then the run. */
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupted.abort(new Error(`interrupted by ${signal}`)));

async function runCase(benchCase: BenchCase, scale: number, profileDir: string | undefined): Promise<boolean> {
  const abort = new AbortController();
  const onInterrupt = () => abort.abort(interrupted.signal.reason);
  interrupted.signal.addEventListener('abort', onInterrupt, { once: true });
  const cleanups: (() => Promise<void> | void)[] = [];
  const notes: Record<string, unknown> = {};
  const context: CaseContext = {
    signal: abort.signal,
    scale,
    defer: (cleanup) => void cleanups.push(cleanup),
    note: (details) => Object.assign(notes, details),
  };
  const boundMs = benchCase.timeoutMs * scaleOfTime(scale);
  const timeout = setTimeout(() => abort.abort(new Error(`timed out after ${boundMs / 1000} s`)), boundMs);
  const started = performance.now();
  log(`${benchCase.name}: start`);
  const profile = profileDir === undefined ? undefined : await startCpuProfile();
  let ok = false;
  try {
    const measurements = await untilUnwound(benchCase.run(context), abort.signal);
    for (const measurement of measurements) printLine(resultLine(scale === 1 ? measurement : { ...measurement, details: { ...measurement.details, scale } }));
    ok = true;
  } catch (error) {
    const cause: unknown = abort.signal.aborted ? abort.signal.reason : error;
    printLine(errorLine(benchCase.name, cause, { ...notes, ...(scale === 1 ? {} : { scale }) }));
    log(`${benchCase.name}: FAILED: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
  } finally {
    clearTimeout(timeout);
    interrupted.signal.removeEventListener('abort', onInterrupt);
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`${benchCase.name}: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
        ok = false;
      }
    }
    if (profile && profileDir !== undefined) {
      const file = path.join(profileDir, `${benchCase.name.replace(/\//g, '_')}.cpuprofile`);
      await profile.stopAndWrite(file);
      log(`${benchCase.name}: CPU profile in ${file}`);
    }
    log(`${benchCase.name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return ok;
}

/** The case's own outcome, or — once it has been aborted and still not returned after the grace — the abort reason. */
function untilUnwound<T>(run: Promise<T>, signal: AbortSignal): Promise<T> {
  const abandoned = new Promise<never>((_resolve, reject) =>
    signal.addEventListener('abort', () => setTimeout(() => reject(signal.reason as Error), unwindGraceMs).unref(), { once: true }),
  );
  return Promise.race([run, abandoned]);
}

/** Smaller runs get proportionally less time, but never under a tenth of the full bound. */
function scaleOfTime(scale: number): number {
  return Math.max(0.1, Math.min(1, scale));
}

function select(names: string[]): BenchCase[] {
  if (names.length === 0) return cases;
  const unknown = names.filter((name) => !cases.some((c) => c.name === name || c.name.startsWith(`${name}/`)));
  if (unknown.length > 0) throw new Error(`no such case: ${unknown.join(', ')} (cases: ${cases.map((c) => c.name).join(', ')})`);
  return cases.filter((c) => names.some((name) => c.name === name || c.name.startsWith(`${name}/`)));
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
  // A stray rejection inside the control plane must not end the whole run: it is reported, and the case's own wait times out.
  process.on('unhandledRejection', (reason) => log(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  let failures = 0;
  for (const benchCase of select(positionals)) {
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
