import { KeyedSerializer } from './keyed-serializer';

describe('KeyedSerializer', () => {
  it('runs operations on one key one at a time, in order, even after a failure; other keys run alongside', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    const operation =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      serializer.run('task-1', operation('a', true)),
      serializer.run('task-1', operation('b')),
      serializer.run('task-2', operation('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('b start')).toBeGreaterThan(log.indexOf('a end'));
    expect(log.indexOf('c start')).toBeLessThan(log.indexOf('a end'));
  });
});
