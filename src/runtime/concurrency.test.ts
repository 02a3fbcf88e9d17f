import { settleAll } from './concurrency';

describe('settleAll', () => {
  it('keeps at most `limit` in flight, returns results in item order, and keeps going past failures', async () => {
    let inFlight = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const run = settleAll([1, 2, 3, 4, 5], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => releases.push(resolve));
      inFlight--;
      if (n === 2) throw new Error('two failed');
      return n * 10;
    });
    while (releases.length > 0 || inFlight > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.splice(0).forEach((release) => release());
    }
    const results = await run;
    expect(peak).toBe(2);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 'two failed', 30, 40, 50]);
  });

  it('resolves at once for no items', async () => {
    expect(await settleAll([], 4, () => Promise.resolve(1))).toEqual([]);
  });
});
