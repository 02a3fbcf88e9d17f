import { Cron, CronDate } from 'croner';

/**
 * The schedule of an Application Auto Scaling scheduled action, as ECS users write it:
 *   at(2026-03-01T09:00:00)    once, in the action's time zone;
 *   rate(15 minutes)           every 15 minutes from when the action was first seen (no time zone);
 *   cron(0 18 ? * MON-FRI *)   AWS's six-field cron, in the action's time zone, evaluated by croner.
 * Times are milliseconds since the epoch; nothing here reads a clock.
 */
export type Schedule = { kind: 'at'; at: number } | { kind: 'rate'; everyMs: number } | { kind: 'cron'; cron: Cron };

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

const minuteMs = 60_000;
/** rate() units. A day is 86 400 000 ms, not a calendar day: rate(1 day) from 09:00 UTC stays 09:00 UTC, whatever DST does. */
const rateUnitMs: Record<string, number> = { minute: minuteMs, hour: 60 * minuteMs, day: 24 * 60 * minuteMs };

/** Parses `expression` with `timezone` (undefined = UTC); throws a ScheduleError naming what is wrong. */
export function parseSchedule(expression: string, timezone?: string): Schedule {
  const zone = timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
  } catch {
    throw new ScheduleError(`unknown time zone ${zone}`);
  }
  const [, kind, body] = /^(at|rate|cron)\((.*)\)$/.exec(expression) ?? [];
  if (kind === 'at') return { kind: 'at', at: parseAt(expression, body, zone) };
  if (kind === 'rate') return { kind: 'rate', everyMs: parseRate(expression, body) };
  if (kind === 'cron') return { kind: 'cron', cron: parseCron(expression, body, zone) };
  throw new ScheduleError(`${expression}: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)`);
}

function parseAt(expression: string, body: string, zone: string): number {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body)?.slice(1).map(Number);
  if (!parts) throw new ScheduleError(`${expression}: expected at(yyyy-mm-ddThh:mm:ss)`);
  const [year, month, day, hour, minute, second] = parts;
  // Day 0 of the next month is this month's last day: Date.UTC(2026, 2, 0) is 28 February 2026, so 2026-02-29 is refused.
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const ranges: [string, number, number, number][] = [
    ['month', month, 1, 12],
    ['day', day, 1, lastDay], // checked after month, so lastDay is a real month's
    ['hour', hour, 0, 23],
    ['minute', minute, 0, 59],
    ['second', second, 0, 59],
  ];
  for (const [name, value, min, max] of ranges) {
    if (value < min || value > max) throw new ScheduleError(`${expression}: ${name} ${value} is not in ${min}-${max}`);
  }
  // A wall time read in the zone, as java.time reads it: in New York, 2026-03-08T02:30:00 does not exist (02:00 EST jumps to
  // 03:00 EDT) and moves forward by the gap to 03:30 EDT (07:30Z); 2026-11-01T01:30:00 happens twice and is the first,
  // 01:30 EDT (05:30Z).
  return new CronDate(body, zone).getTime();
}

function parseRate(expression: string, body: string): number {
  const [value, unit, ...rest] = body.split(' ');
  if (unit === undefined || rest.length > 0) throw new ScheduleError(`${expression}: expected rate(value unit)`);
  const count = /^\d+$/.test(value) ? Number(value) : 0;
  if (count < 1) throw new ScheduleError(`${expression}: value ${value} is not a positive integer`);
  // AWS takes the singular with 1 only and the plural otherwise: rate(1 minute), rate(5 minutes); not rate(1 minutes), rate(5 minute).
  const singular = unit.replace(/s$/, '');
  const unitMs = rateUnitMs[singular];
  if (unitMs === undefined) throw new ScheduleError(`${expression}: unit ${unit} is not minute(s), hour(s) or day(s)`);
  const wanted = count === 1 ? singular : `${singular}s`;
  if (unit !== wanted) throw new ScheduleError(`${expression}: ${count} takes ${wanted}, not ${unit}`);
  return count * unitMs;
}

type Field = { name: string; min: number; max: number; names?: readonly string[]; steps: boolean };

/** AWS's fields in order, with the values and increments (/) each takes; day-of-week counts SUN = 1 … SAT = 7. */
const fields: readonly Field[] = [
  { name: 'minutes', min: 0, max: 59, steps: true },
  { name: 'hours', min: 0, max: 23, steps: true },
  { name: 'day-of-month', min: 1, max: 31, steps: true },
  { name: 'month', min: 1, max: 12, steps: true, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 1, max: 7, steps: false, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  { name: 'year', min: 1970, max: 2199, steps: true },
];
const [, , dayOfMonth, , dayOfWeek] = fields;

/**
 * AWS's cron, checked field by field against AWS's rules (croner alone would take `?` anywhere, day-of-week 0 or 8, year
 * 9999), then handed to croner as a 7-part pattern with seconds 0: cron(0 18 ? * MON-FRI *) → "0 0 18 ? * MON-FRI *".
 */
function parseCron(expression: string, body: string, zone: string): Cron {
  const texts = body.toUpperCase().split(' ');
  if (texts.length !== fields.length) {
    throw new ScheduleError(`${expression}: has ${texts.length} fields, needs 6: minutes hours day-of-month month day-of-week year`);
  }
  for (const [i, field] of fields.entries()) {
    const problem = fieldProblem(field, texts[i]);
    if (problem) throw new ScheduleError(`${expression}: ${problem}`);
  }
  // One day field says which days, the other says `?` (any): cron(0 8 15 * ? *) is the 15th, cron(0 8 ? * 6#3 *) the
  // third Friday. AWS refuses values or `*` in both, and `?` in both; with exactly one `?` croner's OR of the two fields
  // (Vixie cron's rule) never comes into play, since croner reads `?` as `*` and a `*` day field leaves the other alone.
  const [domAny, dowAny] = [texts[2] === '?', texts[4] === '?'];
  if (domAny && dowAny) throw new ScheduleError(`${expression}: can have ? in day-of-month or day-of-week, not both`);
  if (!domAny && !dowAny) throw new ScheduleError(`${expression}: needs ? in day-of-month or day-of-week`);
  // A lone L in day-of-week is the week's last day, Saturday (7), as in Quartz; croner only knows nL (6L: the last Friday).
  if (texts[4] === 'L') texts[4] = '7';
  try {
    return new Cron(`0 ${texts.join(' ')}`, {
      mode: '7-part', // seconds and year fields, always: "0 0 10 * * ? *" runs at 10:00:00 every day of every year
      timezone: zone, // never undefined: croner would use the process's local time zone
      alternativeWeekdays: true, // Quartz numbering as AWS: 1 = SUN … 7 = SAT (croner's default is 0 = SUN … 6 = SAT)
      sloppyRanges: true, // AWS's 0/15 (minutes 0, 15, 30, 45): croner otherwise takes only */15 or 0-59/15
      // A time a DST change skips runs at the end of the gap, and a time that happens twice runs once, for every job without
      // `*` or `/` in minutes and hours: in New York, cron(30 2,14 * * ? *) runs at 03:00 EDT on 8 March 2026. Croner's default
      // ("single-value") would skip that 02:30 run, and a scaling action skipped leaves capacity wrong until the next one.
      fixedTimeRule: 'no-wildcard',
    });
  } catch (error) {
    throw new ScheduleError(`${expression}: ${(error as Error).message}`);
  }
}

/** A field's value from its digits or its name: month MAR → 3, day-of-week SUN → 1; undefined for anything else. */
function valueOf(field: Field, text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = field.names?.indexOf(text) ?? -1;
  return index >= 0 ? index + 1 : undefined;
}

/** What is wrong with one field's text, or undefined. The L, W and # forms must stand alone in their field, as in Quartz. */
function fieldProblem(field: Field, text: string): string | undefined {
  const valueProblem = (item: string, ...values: string[]) => {
    for (const v of values) {
      const n = valueOf(field, v);
      if (n === undefined) return `cannot read ${field.name} ${item}`;
      if (n < field.min || n > field.max) return `${field.name} ${v} is not in ${field.min}-${field.max}`;
    }
    return undefined;
  };
  if (field === dayOfMonth || field === dayOfWeek) {
    if (text === '?' || text === 'L' || (field === dayOfMonth && text === 'LW')) return undefined;
    // 15W: the weekday nearest the 15th; 6L: the last Friday; 6#3: the third Friday (# counts weeks 1-5 of the month).
    const special = field === dayOfMonth ? /^(\d+)W$/.exec(text) : /^(\w+?)(?:L|#[1-5])$/.exec(text);
    if (special) return valueProblem(text, special[1]);
  }
  for (const item of text.split(',')) {
    const [, all, from, to, step] = /^(?:(\*)|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/.exec(item) ?? [];
    if ((all === undefined && from === undefined) || (step !== undefined && !field.steps)) return `cannot read ${field.name} ${item}`;
    const problem = valueProblem(item, ...[from, to].filter((v) => v !== undefined));
    if (problem) return problem;
    // Ranges do not wrap: hours 22-2 (22:00 to 02:00) is refused; write 22-23,0-2.
    if (to !== undefined && valueOf(field, to)! < valueOf(field, from)!) return `${field.name} ${item} runs backwards`;
    if (step !== undefined && Number(step) < 1) return `${field.name} ${item} steps by 0`;
  }
  return undefined;
}

/**
 * The latest run in (afterMs, upToMs], or undefined: what a controller that last looked at afterMs must run now. AWS runs a
 * missed action once, not once per missed time, so only the latest counts: daily at 10:00, looked at on Monday 09:00 and
 * again on Wednesday 11:00, gives Wednesday 10:00 (Monday's and Tuesday's 10:00 are not run).
 */
export function lastRunBetween(schedule: Schedule, afterMs: number, upToMs: number, firstSeenMs: number): number | undefined {
  let last: number | undefined;
  switch (schedule.kind) {
    case 'at':
      last = schedule.at <= upToMs ? schedule.at : undefined;
      break;
    case 'rate': {
      // Runs are firstSeen + k × every, k ≥ 1; the latest ≤ upTo has k = ⌊(upTo − firstSeen) / every⌋: every 5 min from 0,
      // upTo 21 min → k = 4 → 20 min. k = 0 is firstSeen itself, not a run.
      const k = Math.floor((upToMs - firstSeenMs) / schedule.everyMs);
      last = k >= 1 ? firstSeenMs + k * schedule.everyMs : undefined;
      break;
    }
    case 'cron':
      // One backward search from upTo (croner's previousRuns, which excludes its reference, hence + 1 ms), not a walk forward
      // from afterMs: croner moves field by field (year, month, day, hour, minute), so a year-long span of an every-minute
      // schedule costs what one minute does, and with year * it gives up 400 years back.
      last = schedule.cron.previousRuns(1, new Date(upToMs + 1))[0]?.getTime();
      break;
  }
  return last !== undefined && last > afterMs ? last : undefined;
}

/** The first run strictly after afterMs, or undefined when there is none (an `at` in the past, a cron whose years are over). */
export function nextRunAfter(schedule: Schedule, afterMs: number, firstSeenMs: number): number | undefined {
  switch (schedule.kind) {
    case 'at':
      return schedule.at > afterMs ? schedule.at : undefined;
    case 'rate': {
      // The smallest k ≥ 1 with firstSeen + k × every > after: every 5 min from 0, after 7 min → k = ⌊7 / 5⌋ + 1 = 2 → 10 min;
      // after exactly 10 min → k = 3 → 15 min; after −3 min (before firstSeen) → k = 1 → 5 min.
      const k = Math.max(1, Math.floor((afterMs - firstSeenMs) / schedule.everyMs) + 1);
      return firstSeenMs + k * schedule.everyMs;
    }
    case 'cron':
      // croner's nextRun is strictly after its argument, to the millisecond: after 10:00:00.500 the next 10:00 is tomorrow's.
      return schedule.cron.nextRun(new Date(afterMs))?.getTime();
  }
}
