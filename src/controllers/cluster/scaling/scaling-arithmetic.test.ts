import fc from 'fast-check';
import { reservationPercent, scaleInSize, scaleOutSize, sizeForTarget, withinBounds, type ScalingBounds } from './scaling-arithmetic';

const bounds = (fields: Partial<ScalingBounds> = {}): ScalingBounds => ({
  minSize: 1,
  maxSize: 10,
  minimumScalingStepSize: 1,
  maximumScalingStepSize: 10000,
  ...fields,
});

describe('the reservation metric', () => {
  test('M / N × 100, rounded', () => {
    expect(reservationPercent(4, 2)).toBe(200);
    expect(reservationPercent(3, 4)).toBe(75);
    expect(reservationPercent(1, 3)).toBe(33);
    expect(reservationPercent(2, 2)).toBe(100);
  });

  test("ECS's special cases without a running instance: 200 when something is needed, else 100", () => {
    expect(reservationPercent(2, 0)).toBe(200);
    expect(reservationPercent(0, 0)).toBe(100);
  });

  test('the size for the target is the smallest N that brings M / N × 100 down to it', () => {
    expect(sizeForTarget(3, 100)).toBe(3);
    expect(sizeForTarget(3, 50)).toBe(6);
    expect(sizeForTarget(3, 75)).toBe(4);
    expect(sizeForTarget(0, 100)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 100 }), (needed, target) => {
        const size = sizeForTarget(needed, target);
        // In integers: M × 100 <= target × N, and one instance fewer would not do.
        expect(needed * 100).toBeLessThanOrEqual(target * size);
        expect(needed * 100).toBeGreaterThan(target * (size - 1));
      }),
      { seed: 9, numRuns: 300 },
    );
  });
});

describe('scale-out steps', () => {
  test('the worked examples', () => {
    expect(scaleOutSize(2, 7, bounds({ maximumScalingStepSize: 3 }))).toBe(5);
    expect(scaleOutSize(2, 3, bounds({ minimumScalingStepSize: 2 }))).toBe(4);
    expect(scaleOutSize(9, 12, bounds())).toBe(10);
  });
});

describe('scale-in steps', () => {
  test('the worked examples', () => {
    expect(scaleInSize(6, 2, 3, bounds())).toBe(3);
    expect(scaleInSize(6, 2, 6, bounds({ maximumScalingStepSize: 2 }))).toBe(4);
    expect(scaleInSize(3, 0, 3, bounds())).toBe(1);
  });
});

describe('properties of the steps (fast-check, fixed seed)', () => {
  const scalingBounds = fc
    .record({
      minSize: fc.integer({ min: 0, max: 50 }),
      span: fc.integer({ min: 0, max: 50 }),
      minStep: fc.integer({ min: 1, max: 20 }),
      extra: fc.integer({ min: 0, max: 20 }),
    })
    .map(({ minSize, span, minStep, extra }) =>
      bounds({ minSize, maxSize: minSize + span, minimumScalingStepSize: minStep, maximumScalingStepSize: minStep + extra }),
    );
  const inBounds = (b: ScalingBounds) => fc.integer({ min: b.minSize, max: b.maxSize });

  test('a scale-out stays within minSize..maxSize, grows, and adds at most maximumScalingStepSize', () => {
    fc.assert(
      fc.property(
        scalingBounds.chain((b) => fc.tuple(fc.constant(b), inBounds(b), fc.integer({ min: 0, max: 200 }))),
        ([b, current, more]) => {
          const wanted = withinBounds(current + 1 + more, b);
          fc.pre(wanted > current);
          const next = scaleOutSize(current, wanted, b);
          expect(next).toBeGreaterThan(current);
          expect(next).toBeGreaterThanOrEqual(b.minSize);
          expect(next).toBeLessThanOrEqual(b.maxSize);
          expect(next - current).toBeLessThanOrEqual(b.maximumScalingStepSize);
          // At least the minimum step, unless maxSize stops it first.
          expect(next - current).toBeGreaterThanOrEqual(Math.min(b.minimumScalingStepSize, b.maxSize - current));
        },
      ),
      { seed: 17, numRuns: 1000 },
    );
  });

  test('a scale-in stays within minSize..maxSize, removes at most maximumScalingStepSize, and never an instance with tasks', () => {
    fc.assert(
      fc.property(
        scalingBounds.chain((b) => fc.tuple(fc.constant(b), inBounds(b), fc.integer({ min: 0, max: 200 }), fc.nat(100))),
        ([b, current, wanted, emptyInstances]) => {
          const removable = Math.min(emptyInstances, current);
          const next = scaleInSize(current, Math.min(wanted, current), removable, b);
          expect(next).toBeLessThanOrEqual(current);
          expect(next).toBeGreaterThanOrEqual(b.minSize);
          expect(next).toBeLessThanOrEqual(b.maxSize);
          expect(current - next).toBeLessThanOrEqual(b.maximumScalingStepSize);
          // Only empty instances go: the instances with tasks (current - removable) all stay.
          expect(next).toBeGreaterThanOrEqual(current - removable);
        },
      ),
      { seed: 23, numRuns: 1000 },
    );
  });
});
