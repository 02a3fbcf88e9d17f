import fc from 'fast-check';
import { lastRunBetween, nextRunAfter, parseSchedule, ScheduleError, type Schedule } from './schedule';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
/** The next `n` runs after `from`, each found from the one before. */
function runs(schedule: Schedule, from: string, n: number, firstSeenMs = 0): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let after = t(from);
  for (let i = 0; i < n; i++) {
    const next = nextRunAfter(schedule, after, firstSeenMs);
    out.push(iso(next));
    if (next === undefined) break;
    after = next;
  }
  return out;
}

describe('parseSchedule refuses what AWS refuses, naming what is wrong', () => {
  test.each([
    ['cron(0 10 * * * *)', undefined, 'cron(0 10 * * * *): needs ? in day-of-month or day-of-week'],
    ['cron(0 10 15 * MON *)', undefined, 'cron(0 10 15 * MON *): needs ? in day-of-month or day-of-week'],
    ['cron(0 10 ? * ? *)', undefined, 'cron(0 10 ? * ? *): can have ? in day-of-month or day-of-week, not both'],
    ['cron(0 10 * * ?)', undefined, 'cron(0 10 * * ?): has 5 fields, needs 6: minutes hours day-of-month month day-of-week year'],
    ['cron(0 0 10 * * ? *)', undefined, 'cron(0 0 10 * * ? *): has 7 fields, needs 6: minutes hours day-of-month month day-of-week year'],
    ['cron(60 10 * * ? *)', undefined, 'cron(60 10 * * ? *): minutes 60 is not in 0-59'],
    ['cron(0 24 * * ? *)', undefined, 'cron(0 24 * * ? *): hours 24 is not in 0-23'],
    ['cron(0 8 32W * ? *)', undefined, 'cron(0 8 32W * ? *): day-of-month 32 is not in 1-31'],
    ['cron(0 8 ? 13 * *)', undefined, 'cron(0 8 ? 13 * *): month 13 is not in 1-12'],
    ['cron(0 8 ? * 0 *)', undefined, 'cron(0 8 ? * 0 *): day-of-week 0 is not in 1-7'], // croner's own numbering; AWS's SUN is 1
    ['cron(0 8 ? * 8 *)', undefined, 'cron(0 8 ? * 8 *): day-of-week 8 is not in 1-7'],
    ['cron(0 8 1 * ? 1969)', undefined, 'cron(0 8 1 * ? 1969): year 1969 is not in 1970-2199'],
    ['cron(0 8 1 * ? 2200)', undefined, 'cron(0 8 1 * ? 2200): year 2200 is not in 1970-2199'],
    ['cron(0 ? * * ? *)', undefined, 'cron(0 ? * * ? *): cannot read hours ?'], // ? is for the day fields only
    ['cron(0 8 ? * 2/2 *)', undefined, 'cron(0 8 ? * 2/2 *): cannot read day-of-week 2/2'], // day-of-week takes no increments
    ['cron(0 8 ? * 1,6#3 *)', undefined, 'cron(0 8 ? * 1,6#3 *): cannot read day-of-week 6#3'], // # stands alone
    ['cron(0 8 ? * 6#6 *)', undefined, 'cron(0 8 ? * 6#6 *): cannot read day-of-week 6#6'], // no month has a sixth Friday
    ['cron(0 8 L-2 * ? *)', undefined, 'cron(0 8 L-2 * ? *): cannot read day-of-month L-2'],
    ['cron(0 8 ? FOO * *)', undefined, 'cron(0 8 ? FOO * *): cannot read month FOO'],
    ['cron(*/0 8 * * ? *)', undefined, 'cron(*/0 8 * * ? *): minutes */0 steps by 0'],
    ['cron(0 22-2 * * ? *)', undefined, 'cron(0 22-2 * * ? *): hours 22-2 runs backwards'],
    // What passes these checks and croner still refuses keeps croner's words.
    ['cron(0/61 * * * ? *)', undefined, 'cron(0/61 * * * ? *): CronPattern: Syntax error, steps cannot be greater than maximum value of part (60)'],
    ['cron(0 8 ? * FRI-MON *)', undefined, 'cron(0 8 ? * FRI-MON *): day-of-week FRI-MON runs backwards'],
    ['rate(0 minutes)', undefined, 'rate(0 minutes): value 0 is not a positive integer'],
    ['rate(-5 minutes)', undefined, 'rate(-5 minutes): value -5 is not a positive integer'],
    ['rate(1 minutes)', undefined, 'rate(1 minutes): 1 takes minute, not minutes'],
    ['rate(5 minute)', undefined, 'rate(5 minute): 5 takes minutes, not minute'],
    ['rate(2 weeks)', undefined, 'rate(2 weeks): unit weeks is not minute(s), hour(s) or day(s)'],
    ['rate(5)', undefined, 'rate(5): expected rate(value unit)'],
    ['at(2026-13-01T00:00:00)', undefined, 'at(2026-13-01T00:00:00): month 13 is not in 1-12'],
    ['at(2026-02-29T00:00:00)', undefined, 'at(2026-02-29T00:00:00): day 29 is not in 1-28'], // 2026 is no leap year
    ['at(2026-04-01T24:00:00)', undefined, 'at(2026-04-01T24:00:00): hour 24 is not in 0-23'],
    ['at(2026-04-01 09:00:00)', undefined, 'at(2026-04-01 09:00:00): expected at(yyyy-mm-ddThh:mm:ss)'],
    ['cron(0 10 * * ? *)', 'Mars/Base', 'unknown time zone Mars/Base'],
    ['rate(5 minutes)', 'Mars/Base', 'unknown time zone Mars/Base'], // a rate ignores the zone, but a wrong one is still wrong
    [
      'every tuesday',
      undefined,
      'every tuesday: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)',
    ],
  ])('%s (zone %s)', (expression, zone, message) => {
    expect(() => parseSchedule(expression, zone)).toThrow(new ScheduleError(message));
  });

  test('the error is a ScheduleError', () => {
    expect(() => parseSchedule('cron(0 10 * * * *)')).toThrow(ScheduleError);
  });
});

describe('at(): one time, in the action time zone', () => {
  test('UTC by default; another zone shifts it: 09:00 in Kolkata (UTC+05:30) is 03:30Z', () => {
    expect(parseSchedule('at(2026-03-01T09:00:00)')).toEqual({ kind: 'at', at: t('2026-03-01T09:00:00Z') });
    expect(parseSchedule('at(2026-03-01T09:00:00)', 'Asia/Kolkata')).toEqual({ kind: 'at', at: t('2026-03-01T03:30:00Z') });
  });

  test('a wall time DST skips moves forward by the gap; one that happens twice is the first', () => {
    // New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 becomes 03:30 EDT (07:30Z).
    expect(parseSchedule('at(2026-03-08T02:30:00)', 'America/New_York')).toEqual({ kind: 'at', at: t('2026-03-08T07:30:00Z') });
    // 1 November 2026: 02:00 EDT falls back to 01:00 EST; 01:30 EDT (05:30Z) comes before 01:30 EST (06:30Z).
    expect(parseSchedule('at(2026-11-01T01:30:00)', 'America/New_York')).toEqual({ kind: 'at', at: t('2026-11-01T05:30:00Z') });
  });

  test('it runs once: before it, on it, after it', () => {
    const at = parseSchedule('at(2026-03-01T09:00:00)');
    expect(iso(nextRunAfter(at, t('2026-03-01T08:59:59Z'), 0))).toBe('2026-03-01T09:00:00.000Z');
    expect(nextRunAfter(at, t('2026-03-01T09:00:00Z'), 0)).toBeUndefined();
    expect(iso(lastRunBetween(at, t('2026-02-01T00:00:00Z'), t('2026-03-01T09:00:00Z'), 0))).toBe('2026-03-01T09:00:00.000Z');
    expect(lastRunBetween(at, t('2026-03-01T09:00:00Z'), t('2026-04-01T00:00:00Z'), 0)).toBeUndefined(); // already run
    expect(lastRunBetween(at, t('2026-02-01T00:00:00Z'), t('2026-03-01T08:59:59Z'), 0)).toBeUndefined(); // not yet
  });
});

describe('rate(): every interval from when the action was first seen', () => {
  test.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(12 hours)', 43_200_000],
    ['rate(1 day)', 86_400_000],
    ['rate(7 days)', 604_800_000],
  ])('%s is %d ms', (expression, everyMs) => {
    expect(parseSchedule(expression)).toEqual({ kind: 'rate', everyMs });
  });

  test('a zone changes nothing: rate(1 day) is 86 400 000 ms across a DST change', () => {
    expect(parseSchedule('rate(1 day)', 'America/New_York')).toEqual({ kind: 'rate', everyMs: 86_400_000 });
  });

  // Every 5 minutes from firstSeen = 1 000 000: runs at 1 300 000, 1 600 000, 1 900 000, …
  const rate = parseSchedule('rate(5 minutes)');
  const firstSeen = 1_000_000;
  test.each([
    [0, 1_300_000], // before firstSeen: the first run
    [firstSeen, 1_300_000], // firstSeen itself is no run
    [1_420_000, 1_600_000], // 7 minutes in → the 10-minute run
    [1_600_000, 1_900_000], // strictly after
  ])('nextRunAfter(%d) = %d', (after, next) => {
    expect(nextRunAfter(rate, after, firstSeen)).toBe(next);
  });

  test.each([
    [firstSeen, 2_260_000, 2_200_000], // 21 minutes in: runs at 5, 10, 15, 20 → only the 20-minute run
    [2_200_000, 2_260_000, undefined], // the 20-minute run is done, the 25-minute one not due
    [1_900_000, 2_200_000, 2_200_000], // upTo is inclusive
    [0, 1_200_000, undefined], // 3 minutes in: nothing yet
  ])('lastRunBetween(%d, %d) = %s', (after, upTo, last) => {
    expect(lastRunBetween(rate, after, upTo, firstSeen)).toBe(last);
  });
});

describe('cron(): AWS fields evaluated by croner', () => {
  test('cron(0 10 * * ? *): every day at 10:00 UTC, strictly after', () => {
    const daily = parseSchedule('cron(0 10 * * ? *)');
    expect(runs(daily, '2026-01-01T00:00:00Z', 3)).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-02T10:00:00.000Z', '2026-01-03T10:00:00.000Z']);
    expect(iso(nextRunAfter(daily, t('2026-01-01T10:00:00.000Z'), 0))).toBe('2026-01-02T10:00:00.000Z');
    expect(iso(nextRunAfter(daily, t('2026-01-01T10:00:00.500Z'), 0))).toBe('2026-01-02T10:00:00.000Z');
    expect(iso(nextRunAfter(daily, t('2026-01-01T09:59:59.999Z'), 0))).toBe('2026-01-01T10:00:00.000Z');
  });

  test('cron(0 18 ? * MON-FRI *): weekdays only (2 January 2026 is a Friday)', () => {
    expect(runs(parseSchedule('cron(0 18 ? * MON-FRI *)'), '2026-01-02T00:00:00Z', 3)).toEqual([
      '2026-01-02T18:00:00.000Z',
      '2026-01-05T18:00:00.000Z',
      '2026-01-06T18:00:00.000Z',
    ]);
  });

  test('names are case-insensitive, as in AWS: cron(0 18 ? * mon-fri *)', () => {
    expect(runs(parseSchedule('cron(0 18 ? * mon-fri *)'), '2026-01-02T19:00:00Z', 1)).toEqual(['2026-01-05T18:00:00.000Z']);
  });

  test('day-of-week counts SUN = 1 … SAT = 7 (4 January 2026 is a Sunday)', () => {
    expect(runs(parseSchedule('cron(0 8 ? * 1 *)'), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T08:00:00.000Z']);
    expect(runs(parseSchedule('cron(0 8 ? * 7 *)'), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T08:00:00.000Z']);
  });

  test('cron(0/15 * * * ? *): minutes 0, 15, 30, 45; cron(5/20 …): 5, 25, 45', () => {
    const quarter = parseSchedule('cron(0/15 * * * ? *)');
    expect(runs(quarter, '2026-01-01T00:07:00Z', 4)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    expect(runs(parseSchedule('cron(5/20 * * * ? *)'), '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:25:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:05:00.000Z',
    ]);
  });

  test('cron(0 8 15 * ? *): the 15th only, whatever the weekday', () => {
    expect(runs(parseSchedule('cron(0 8 15 * ? *)'), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-15T08:00:00.000Z',
      '2026-02-15T08:00:00.000Z',
      '2026-03-15T08:00:00.000Z',
    ]);
  });

  test('L in day-of-month: the last day, 29 February in a leap year', () => {
    expect(runs(parseSchedule('cron(0 8 L * ? *)'), '2028-01-01T00:00:00Z', 3)).toEqual([
      '2028-01-31T08:00:00.000Z',
      '2028-02-29T08:00:00.000Z',
      '2028-03-31T08:00:00.000Z',
    ]);
  });

  test('15W: the weekday nearest the 15th (Sunday 15 February → Monday 16th, Saturday 15 August → Friday 14th)', () => {
    const nearest = parseSchedule('cron(0 8 15W * ? *)');
    expect(iso(nextRunAfter(nearest, t('2026-02-01T00:00:00Z'), 0))).toBe('2026-02-16T08:00:00.000Z');
    expect(iso(nextRunAfter(nearest, t('2026-08-01T00:00:00Z'), 0))).toBe('2026-08-14T08:00:00.000Z');
    expect(iso(nextRunAfter(nearest, t('2026-04-01T00:00:00Z'), 0))).toBe('2026-04-15T08:00:00.000Z'); // a Wednesday
  });

  test('LW: the last weekday of the month (Saturday 31 January 2026 → Friday 30th)', () => {
    expect(runs(parseSchedule('cron(0 8 LW * ? *)'), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-30T08:00:00.000Z']);
  });

  test('6#3 and FRI#3: the third Friday (Fridays of January 2026: 2, 9, 16, 23, 30)', () => {
    const expected = ['2026-01-16T08:00:00.000Z', '2026-02-20T08:00:00.000Z', '2026-03-20T08:00:00.000Z'];
    expect(runs(parseSchedule('cron(0 8 ? * 6#3 *)'), '2026-01-01T00:00:00Z', 3)).toEqual(expected);
    expect(runs(parseSchedule('cron(0 8 ? * FRI#3 *)'), '2026-01-01T00:00:00Z', 3)).toEqual(expected);
  });

  test('L in day-of-week: alone it is Saturday; 6L is the last Friday', () => {
    expect(runs(parseSchedule('cron(0 8 ? * L *)'), '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-03T08:00:00.000Z', '2026-01-10T08:00:00.000Z']);
    expect(runs(parseSchedule('cron(0 8 ? * 6L *)'), '2026-01-01T00:00:00Z', 2)).toEqual(['2026-01-30T08:00:00.000Z', '2026-02-27T08:00:00.000Z']);
  });

  test('years: a range runs out, a past year never comes', () => {
    const newYears = parseSchedule('cron(0 8 1 1 ? 2027-2028)');
    expect(runs(newYears, '2026-01-01T00:00:00Z', 3)).toEqual(['2027-01-01T08:00:00.000Z', '2028-01-01T08:00:00.000Z', undefined]);
    const past = parseSchedule('cron(0 8 1 1 ? 2020)');
    expect(nextRunAfter(past, t('2026-01-01T00:00:00Z'), 0)).toBeUndefined();
    expect(iso(lastRunBetween(past, 0, t('2026-01-01T00:00:00Z'), 0))).toBe('2020-01-01T08:00:00.000Z');
  });

  test('a time zone moves the runs with its offset: 10:00 New York is 15:00Z in winter (EST), 14:00Z in summer (EDT)', () => {
    const daily = parseSchedule('cron(0 10 * * ? *)', 'America/New_York');
    expect(iso(nextRunAfter(daily, t('2026-01-15T00:00:00Z'), 0))).toBe('2026-01-15T15:00:00.000Z');
    expect(iso(nextRunAfter(daily, t('2026-07-15T00:00:00Z'), 0))).toBe('2026-07-15T14:00:00.000Z');
  });
});

describe('cron() across DST in America/New_York', () => {
  // 8 March 2026: 02:00 EST (07:00Z) jumps to 03:00 EDT; 02:xx does not exist that day.
  test('a fixed time in the gap runs at the end of the gap: 02:30 → 03:00 EDT (07:00Z)', () => {
    expect(runs(parseSchedule('cron(30 2 * * ? *)', 'America/New_York'), '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  test('so does a list of fixed times (fixedTimeRule no-wildcard): 02:30 and 14:30', () => {
    expect(runs(parseSchedule('cron(30 2,14 * * ? *)', 'America/New_York'), '2026-03-08T00:00:00Z', 2)).toEqual([
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T18:30:00.000Z',
    ]);
  });

  test('an increment skips the times the gap removes: cron(0/30 2 * * ? *) does not run on 8 March', () => {
    expect(runs(parseSchedule('cron(0/30 2 * * ? *)', 'America/New_York'), '2026-03-08T00:00:00Z', 1)).toEqual(['2026-03-09T06:00:00.000Z']);
  });

  // 1 November 2026: 02:00 EDT (06:00Z) falls back to 01:00 EST; 01:xx happens twice.
  test('a fixed time that happens twice runs once, at the first: 01:30 EDT (05:30Z)', () => {
    expect(runs(parseSchedule('cron(30 1 * * ? *)', 'America/New_York'), '2026-11-01T00:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  test('an increment runs on both passes through the repeated hour', () => {
    expect(runs(parseSchedule('cron(0/30 1 * * ? *)', 'America/New_York'), '2026-11-01T00:00:00Z', 5)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST
      '2026-11-01T06:30:00.000Z', // 01:30 EST
      '2026-11-02T06:00:00.000Z',
    ]);
  });
});

describe('lastRunBetween for cron: the one run a controller owes', () => {
  const daily = parseSchedule('cron(0 10 * * ? *)');

  test('looked at Monday 09:00 and Wednesday 11:00: Wednesday 10:00 only (missed runs are not replayed)', () => {
    expect(iso(lastRunBetween(daily, t('2026-01-05T09:00:00Z'), t('2026-01-07T11:00:00Z'), 0))).toBe('2026-01-07T10:00:00.000Z');
  });

  test('(after, upTo]: a run at upTo is owed, a run at after was already run', () => {
    expect(iso(lastRunBetween(daily, t('2026-01-05T09:00:00Z'), t('2026-01-05T10:00:00Z'), 0))).toBe('2026-01-05T10:00:00.000Z');
    expect(lastRunBetween(daily, t('2026-01-05T10:00:00Z'), t('2026-01-06T09:59:59.999Z'), 0)).toBeUndefined();
    expect(lastRunBetween(daily, t('2026-01-05T10:00:00Z'), t('2026-01-05T10:00:00Z'), 0)).toBeUndefined();
  });

  test('a span of a year: one backward search, whatever the number of runs in between', () => {
    const everyMinute = parseSchedule('cron(* * * * ? *)'); // 525 600 runs in 2026
    expect(iso(lastRunBetween(everyMinute, t('2026-01-01T00:00:30Z'), t('2027-01-01T00:00:30Z'), 0))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(lastRunBetween(daily, t('2026-01-01T00:00:00Z'), t('2026-12-31T23:59:59Z'), 0))).toBe('2026-12-31T10:00:00.000Z');
    // 29 February: none in 2026 or 2027, so nothing is owed over those two years.
    const leapDay = parseSchedule('cron(0 8 29 2 ? *)');
    expect(lastRunBetween(leapDay, t('2025-03-01T00:00:00Z'), t('2027-12-31T00:00:00Z'), 0)).toBeUndefined();
    expect(iso(lastRunBetween(leapDay, t('2025-03-01T00:00:00Z'), t('2028-12-31T00:00:00Z'), 0))).toBe('2028-02-29T08:00:00.000Z');
  });
});

describe('properties (fast-check, fixed seed)', () => {
  const schedules = [
    ...['cron(0 10 * * ? *)', 'cron(30 2 * * ? *)', 'cron(0/30 1 * * ? *)', 'cron(15 8 ? * MON-FRI *)', 'cron(0 8 15W * ? *)', 'cron(0 8 ? * 6#3 *)'].flatMap(
      (expression) => ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'].map((zone) => parseSchedule(expression, zone)),
    ),
    parseSchedule('cron(0 8 1 1 ? 2026-2027)'),
    parseSchedule('rate(7 minutes)'),
    parseSchedule('rate(1 day)'),
    parseSchedule('at(2026-06-01T12:00:00)', 'Europe/Paris'),
  ];
  const y2026 = t('2026-01-01T00:00:00Z');
  const day = 86_400_000;

  test('lastRunBetween and nextRunAfter agree: the run owed is in (after, upTo] and none comes after it by upTo', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...schedules),
        fc.integer({ min: y2026 - 30 * day, max: y2026 + 730 * day }),
        fc.integer({ min: 0, max: 400 * day }),
        fc.integer({ min: y2026 - 60 * day, max: y2026 + 60 * day }),
        (schedule, after, span, firstSeen) => {
          const upTo = after + span;
          const last = lastRunBetween(schedule, after, upTo, firstSeen);
          if (last === undefined) {
            const next = nextRunAfter(schedule, after, firstSeen);
            expect(next === undefined || next > upTo).toBe(true);
          } else {
            expect(last).toBeGreaterThan(after);
            expect(last).toBeLessThanOrEqual(upTo);
            expect(nextRunAfter(schedule, last - 1, firstSeen)).toBe(last); // a run the forward search finds too
            const next = nextRunAfter(schedule, last, firstSeen);
            expect(next === undefined || next > upTo).toBe(true);
          }
        },
      ),
      { seed: 23, numRuns: 500 },
    );
  });
});
