import type { ServiceStatus } from '../../api';
import { metaTime } from '../../runtime/clock';

export type AlarmRecord = NonNullable<NonNullable<ServiceStatus['autoScaling']>['alarms']>[number];
export type Comparison = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

/** One alarm of a scaling policy, as CloudWatch would hold it: a threshold on a metric, over datapoints. */
export interface AlarmDefinition {
  name: string;
  comparison: Comparison;
  threshold: number;
  /** Datapoints in a row that must breach before the alarm is in ALARM. */
  datapointsToAlarm: number;
  /** One datapoint per period. */
  periodMs: number;
}

export function breaches(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/** Whether the alarm takes its next datapoint now: one period after its last, or at once when it has none. */
export function isDue(alarm: AlarmDefinition, previous: AlarmRecord | undefined, now: number): boolean {
  return previous === undefined || now >= Date.parse(previous.evaluatedAt) + alarm.periodMs;
}

export function nextDatapointAt(alarm: AlarmDefinition, record: AlarmRecord): number {
  return Date.parse(record.evaluatedAt) + alarm.periodMs;
}

/**
 * The alarm after one more datapoint. ALARM once `datapointsToAlarm` datapoints in a row breach (3 of 3 at
 * 60 s: three minutes above the threshold), OK as soon as one does not. No datapoint (no task reported the
 * metric) is INSUFFICIENT_DATA and starts the count again: AAS never scales on missing data, and in
 * particular never reads it as low load.
 */
export function evaluateAlarm(
  alarm: AlarmDefinition,
  previous: AlarmRecord | undefined,
  datapoint: { value: number; sampledAt: number } | undefined,
  now: Date,
): AlarmRecord {
  const evaluatedAt = metaTime(now);
  if (datapoint === undefined) return { name: alarm.name, state: 'INSUFFICIENT_DATA', breachingDatapoints: 0, evaluatedAt };
  const value = Math.round(datapoint.value * 100) / 100;
  const sampledAt = metaTime(datapoint.sampledAt);
  if (!breaches(alarm.comparison, datapoint.value, alarm.threshold))
    return { name: alarm.name, state: 'OK', value, breachingDatapoints: 0, evaluatedAt, sampledAt };
  // In a row means one period after another: after a gap of more than two periods (an operator away, an HPA
  // that had the service) the count starts again. e.g. 60 s periods, two breaching, then nothing for 5 hours: 1.
  const continues = previous !== undefined && now.getTime() - Date.parse(previous.evaluatedAt) <= 2 * alarm.periodMs;
  const breachingDatapoints = Math.min((continues ? previous.breachingDatapoints : 0) + 1, alarm.datapointsToAlarm);
  return { name: alarm.name, state: breachingDatapoints >= alarm.datapointsToAlarm ? 'ALARM' : 'OK', value, breachingDatapoints, evaluatedAt, sampledAt };
}
