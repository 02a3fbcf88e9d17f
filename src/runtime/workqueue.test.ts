import { FakeClock, settle } from './clock';
import { createRegistry, RuntimeMetrics } from './metrics';
import { BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialFailureRateLimiter } from './rate-limiter';
import { WorkQueue } from './workqueue';

describe('WorkQueue', () => {
  let clock: FakeClock;
  let queue: WorkQueue<string>;

  beforeEach(() => {
    clock = new FakeClock();
    queue = new WorkQueue<string>({ name: 'test', clock });
  });

  it('queues an item added several times while waiting only once', async () => {
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('never hands an item being processed to a second worker; it comes back after done', async () => {
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);

    let secondWorkerGot: string | undefined;
    void queue.get().then((item) => (secondWorkerGot = item));
    await settle();
    expect(secondWorkerGot).toBeUndefined();

    queue.done(first!);
    await settle();
    expect(secondWorkerGot).toBe('a');
  });

  it('wakes a waiting worker when an item arrives', async () => {
    const got = queue.get();
    queue.add('a');
    expect(await got).toBe('a');
  });

  it('adds after a delay, keeping the earliest time when added again', async () => {
    queue.addAfter('a', 100);
    queue.addAfter('a', 50);
    queue.addAfter('a', 200);
    await clock.advance(49);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(500);
    expect(queue.len()).toBe(1);
  });

  it('delays rate-limited adds exponentially until forgotten', async () => {
    queue = new WorkQueue<string>({ name: 'test', clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const start = clock.now();
      queue.addRateLimited('a');
      while (queue.len() === 0) await clock.advance(1);
      readyAfter.push(clock.now() - start);
      queue.done((await queue.get())!);
    }
    expect(readyAfter).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('a')).toBe(4);

    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    queue.addRateLimited('a');
    await clock.advance(4);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('shutDown releases waiting workers and refuses new work', async () => {
    const waiting = queue.get();
    queue.addAfter('later', 10);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('a');
    await clock.advance(100);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDownWithDrain waits for items in process', async () => {
    queue.add('a');
    queue.add('b');
    const item = await queue.get();
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    expect(await queue.get()).toBeUndefined();
    queue.done(item!);
    await drain;
    expect(drained).toBe(true);
  });

  it('reports controller-runtime workqueue metrics', async () => {
    const metrics = new RuntimeMetrics(createRegistry({ processMetrics: false }));
    queue = new WorkQueue<string>({ name: 'services', clock, metrics });
    queue.add('a');
    queue.add('b');
    await clock.advance(2000);
    const item = await queue.get();
    await clock.advance(3000);
    queue.addRateLimited('c');

    const text = await metrics.registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="services",controller="services"} 2');
    expect(text).toContain('workqueue_depth{name="services",controller="services"} 1');
    expect(text).toContain('workqueue_retries_total{name="services",controller="services"} 1');
    expect(text).toContain('workqueue_unfinished_work_seconds{name="services",controller="services"} 3');
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="services",controller="services"} 3');
    expect(text).toContain('workqueue_queue_duration_seconds_sum{name="services",controller="services"} 2');
    queue.done(item!);
    expect(await metrics.registry.metrics()).toContain('workqueue_work_duration_seconds_count{name="services",controller="services"} 1');
    queue.shutDown();
  });
});

describe('rate limiters', () => {
  it('doubles the per-item delay from 5 ms up to the cap, per item', () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>(5, 1000 * 1000);
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.when('b')).toBe(5);
    for (let i = 0; i < 30; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1000 * 1000);
  });

  it('lets a burst through the token bucket, then paces at qps', async () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter<string>(10, 3, clock);
    expect([bucket.when(), bucket.when(), bucket.when()]).toEqual([0, 0, 0]);
    expect(bucket.when()).toBeCloseTo(100);
    expect(bucket.when()).toBeCloseTo(200);
    await clock.advance(1000);
    expect(bucket.when()).toBe(0);
  });

  it('the default controller limiter takes the larger of both', () => {
    const limiter = defaultControllerRateLimiter<string>(new FakeClock());
    const delays = Array.from({ length: 101 }, (_, i) => limiter.when(`item-${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBeCloseTo(100);
    expect(limiter.when('item-0')).toBeCloseTo(200);
  });
});
