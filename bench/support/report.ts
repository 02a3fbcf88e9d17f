/**
 * What a benchmark case reports, and the two output streams: stdout carries exactly one JSON object
 * per line (a measurement, or a case's error) so a script can read it; everything a human reads goes
 * to stderr.
 */

/** `value op limit` must hold for the target to be met. */
export interface Bound {
  op: '<=' | '<';
  limit: number;
}

/** Absolute and relative targets of one measurement; a measurement meets its target when every bound given holds. */
export interface Target {
  value?: Bound;
  ratio?: Bound;
}

/** One measurement as a case produces it; the printer adds the ratio and whether the target is met. */
export interface Measurement {
  case: string;
  value: number;
  unit: string;
  /** Measured in the same run (or, where noted in `baselineIs`, the expected floor). */
  baseline: number;
  target: Target;
  /** What the baseline is, in a few words, so the line explains itself. */
  baselineIs: string;
  /** Anything else worth keeping (breakdowns, counts, settings); must be JSON. */
  details?: Record<string, unknown>;
}

export interface ResultLine extends Measurement {
  /** value / baseline; null when the baseline is 0. */
  ratio: number | null;
  met: boolean;
}

export interface ErrorLine {
  case: string;
  value: null;
  unit: null;
  baseline: null;
  ratio: null;
  target: null;
  error: string;
  /** Partial figures the case had when it failed, if any. */
  details?: Record<string, unknown>;
}

export function resultLine(measurement: Measurement): ResultLine {
  const ratio = measurement.baseline === 0 ? null : round(measurement.value / measurement.baseline, 3);
  const holds = (bound: Bound | undefined, x: number | null) => !bound || (x !== null && (bound.op === '<=' ? x <= bound.limit : x < bound.limit));
  const met = holds(measurement.target.value, measurement.value) && holds(measurement.target.ratio, ratio);
  return { ...measurement, ratio, met };
}

export function errorLine(caseName: string, error: unknown, details?: Record<string, unknown>): ErrorLine {
  const message = error instanceof Error ? error.message : String(error);
  return { case: caseName, value: null, unit: null, baseline: null, ratio: null, target: null, error: message, ...(details ? { details } : {}) };
}

export function printLine(line: ResultLine | ErrorLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A human-readable progress line on stderr, stamped with the time since the run started. */
export function log(message: string): void {
  const seconds = (performance.now() / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

export function round(x: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(x * factor) / factor;
}
