import { adjustedCapacity, stepFor, type StepAdjustment } from './step-scaling';

describe('stepFor: bounds relative to the threshold', () => {
  // Threshold 50: [0, 10) → +1, [10, ∞) → +3; below: (−10, 0] → −1, (−∞, −10] → −2.
  const steps: StepAdjustment[] = [
    { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
    { metricIntervalLowerBound: 10, scalingAdjustment: 3 },
    { metricIntervalLowerBound: -10, metricIntervalUpperBound: 0, scalingAdjustment: -1 },
    { metricIntervalUpperBound: -10, scalingAdjustment: -2 },
  ];
  test.each([
    [50, 1], // the threshold itself: above-threshold steps take their lower bound
    [59.99, 1],
    [60, 3], // lower bound inclusive above the threshold
    [500, 3],
    [49.99, -1],
    [40.01, -1],
    [40, -2], // upper bound inclusive below the threshold
    [0, -2],
  ])('metric %d → %d', (metric, adjustment) => {
    expect(stepFor(steps, metric, 50)?.scalingAdjustment).toBe(adjustment);
  });

  test('a datapoint no step covers asks for nothing', () => {
    expect(stepFor([{ metricIntervalLowerBound: 0, scalingAdjustment: 2 }], 40, 50)).toBeUndefined();
  });
});

describe('adjustedCapacity', () => {
  test.each([
    ['ChangeInCapacity', 5, 2, undefined, 7],
    ['ChangeInCapacity', 5, -2, undefined, 3],
    ['ExactCapacity', 5, 3, undefined, 3],
    ['PercentChangeInCapacity', 11, 30, undefined, 14], // 3.3 → 3
    ['PercentChangeInCapacity', 14, -10, undefined, 13], // −1.4 → −1
    ['PercentChangeInCapacity', 4, 5, undefined, 5], // 0.2 → 1
    ['PercentChangeInCapacity', 4, -5, undefined, 3], // −0.2 → −1
    ['PercentChangeInCapacity', 15, -50, undefined, 8], // −7.5 → −7 (towards zero)
    ['PercentChangeInCapacity', 4, 25, 2, 6], // 1 → at least 2
    ['PercentChangeInCapacity', 0, 50, undefined, 0], // nothing to take a percentage of
  ] as const)('%s from %d by %d (min magnitude %s) → %d', (type, current, adjustment, magnitude, expected) => {
    expect(adjustedCapacity(current, type, adjustment, magnitude)).toBe(expected);
  });
});
