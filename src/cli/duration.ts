/**
 * A duration flag as Kubernetes components write them (`--leader-elect-lease-duration=15s`): a whole or
 * decimal number with the unit ms, s, m or h, or several such parts (`1m30s`); returns milliseconds.
 */
export function parseDuration(flag: string, value: string): number {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let totalMs = 0;
  let matched = 0;
  for (let match = part.exec(value); match; match = part.exec(value)) {
    totalMs += Number(match[1]) * unitMs[match[2]];
    matched = part.lastIndex;
  }
  if (value === '' || matched !== value.length || totalMs <= 0) throw new Error(`--${flag}: "${value}" is not a positive duration such as 15s, 500ms or 1m30s`);
  return Math.round(totalMs);
}
