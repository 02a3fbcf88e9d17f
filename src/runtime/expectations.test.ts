import { FakeClock } from './clock';
import { Expectations } from './expectations';

describe('Expectations', () => {
  let clock: FakeClock;
  let expectations: Expectations;

  beforeEach(() => {
    clock = new FakeClock();
    expectations = new Expectations({ clock, ttlMs: 60_000 });
  });

  it('is satisfied only once every expected name was observed', () => {
    expect(expectations.satisfied('ns/web')).toBe(true);
    expectations.expect('ns/web', 'add', ['web-a-0', 'web-a-1']);
    expect(expectations.satisfied('ns/web')).toBe(false);
    expectations.observed('ns/web', 'web-a-0', 'add');
    expect(expectations.satisfied('ns/web')).toBe(false);
    expectations.observed('ns/web', 'web-a-1', 'add');
    expect(expectations.satisfied('ns/web')).toBe(true);
  });

  it('does not let an observation of another kind, name or owner satisfy an expectation', () => {
    expectations.expect('ns/web', 'delete', ['web-a-0']);
    expectations.observed('ns/web', 'web-a-0', 'add');
    expectations.observed('ns/web', 'web-a-9', 'delete');
    expectations.observed('ns/db', 'web-a-0', 'delete');
    expect(expectations.satisfied('ns/web')).toBe(false);
    expectations.observed('ns/web', 'web-a-0', 'delete');
    expect(expectations.satisfied('ns/web')).toBe(true);
  });

  it('a failed write drops its expectation whatever the kind', () => {
    expectations.expect('ns/web', 'update', ['web-a-0']);
    expectations.observed('ns/web', 'web-a-0');
    expect(expectations.satisfied('ns/web')).toBe(true);
  });

  it('expires after the TTL, so a lost event delays and never stalls', async () => {
    expectations.expect('ns/web', 'add', ['web-a-0']);
    await clock.advance(59_000);
    expect(expectations.satisfied('ns/web')).toBe(false);
    expect(expectations.remainingMs('ns/web')).toBe(1_000);
    await clock.advance(1_000);
    expect(expectations.satisfied('ns/web')).toBe(true);
    expect(expectations.remainingMs('ns/web')).toBe(0);
  });

  it('forgets an owner that is gone', () => {
    expectations.expect('ns/web', 'add', ['web-a-0']);
    expectations.forget('ns/web');
    expect(expectations.satisfied('ns/web')).toBe(true);
  });
});
