import { semanticallyEqual } from './semantic-equal';

describe('semanticallyEqual', () => {
  it('ignores object key order at every depth', () => {
    const written = { runningCount: 3, deployments: [{ id: 'a', status: 'PRIMARY', counts: { running: 3, pending: 0 } }] };
    const readBack = { deployments: [{ counts: { pending: 0, running: 3 }, status: 'PRIMARY', id: 'a' }], runningCount: 3 };
    expect(JSON.stringify(written)).not.toBe(JSON.stringify(readBack));
    expect(semanticallyEqual(written, readBack)).toBe(true);
  });

  it('treats a key holding undefined as absent, as JSON does', () => {
    expect(semanticallyEqual({ a: 1, reason: undefined }, { a: 1 })).toBe(true);
    expect(semanticallyEqual({ a: 1 }, { a: 1, reason: undefined })).toBe(true);
  });

  it('tells apart what differs: values, missing keys, array order and length, types', () => {
    expect(semanticallyEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(semanticallyEqual({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(semanticallyEqual([1, 2], [2, 1])).toBe(false);
    expect(semanticallyEqual([1], [1, 1])).toBe(false);
    expect(semanticallyEqual({ a: [] }, { a: {} })).toBe(false);
    expect(semanticallyEqual({ a: null }, { a: undefined })).toBe(false);
    expect(semanticallyEqual('1', 1)).toBe(false);
    expect(semanticallyEqual(undefined, {})).toBe(false);
  });
});
