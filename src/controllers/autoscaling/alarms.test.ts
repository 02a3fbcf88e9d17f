import { evaluateAlarm, isDue, type AlarmDefinition, type AlarmRecord } from './alarms';

const high: AlarmDefinition = { name: 'high', comparison: 'GreaterThanThreshold', threshold: 50, datapointsToAlarm: 3, periodMs: 60_000 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

function run(values: (number | undefined)[]): AlarmRecord[] {
  const records: AlarmRecord[] = [];
  values.forEach((value, i) =>
    records.push(evaluateAlarm(high, records.at(-1), value === undefined ? undefined : { value, sampledAt: at(i * 60).getTime() }, at(i * 60))),
  );
  return records;
}

test('ALARM on the third breaching datapoint in a row, and for as long as they keep breaching', () => {
  expect(run([60, 70, 80, 90]).map((r) => r.state)).toEqual(['OK', 'OK', 'ALARM', 'ALARM']);
});

test('one datapoint at or under the threshold starts the count again', () => {
  expect(run([60, 70, 50, 60, 70, 80]).map((r) => [r.state, r.breachingDatapoints])).toEqual([
    ['OK', 1],
    ['OK', 2],
    ['OK', 0],
    ['OK', 1],
    ['OK', 2],
    ['ALARM', 3],
  ]);
});

test('missing data is INSUFFICIENT_DATA and breaks the run: never read as low or high', () => {
  expect(run([60, 70, undefined, 80]).map((r) => r.state)).toEqual(['OK', 'OK', 'INSUFFICIENT_DATA', 'OK']);
});

test('a datapoint is due one period after the last', () => {
  const [first] = run([60]);
  expect(isDue(high, undefined, at(0).getTime())).toBe(true);
  expect(isDue(high, first, at(59).getTime())).toBe(false);
  expect(isDue(high, first, at(60).getTime())).toBe(true);
});
