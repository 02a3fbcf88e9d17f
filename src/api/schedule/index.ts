export { lastRunBetween, nextRunAfter, parseSchedule, ScheduleError, type Schedule } from './schedule';
import { parseSchedule, ScheduleError } from './schedule';

/** For the schema: what is wrong with a schedule expression (its time zone is checked on its own), or undefined. */
export function scheduleProblem(expression: string): string | undefined {
  return problemOf(() => parseSchedule(expression));
}

/** For the schema: an IANA time zone this runtime does not know, or undefined. */
export function timezoneProblem(timezone: string): string | undefined {
  return problemOf(() => parseSchedule('rate(1 minute)', timezone));
}

function problemOf(parse: () => unknown): string | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    if (error instanceof ScheduleError) return error.message;
    throw error;
  }
}
