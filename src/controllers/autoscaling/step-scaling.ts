import type { ServiceSpec } from '../../api';

type StepScalingPolicy = NonNullable<NonNullable<ServiceSpec['autoScaling']>['stepScaling']>[number];
export type StepAdjustment = StepScalingPolicy['stepAdjustments'][number];
export type AdjustmentType = StepScalingPolicy['adjustmentType'];

/**
 * The step a breaching datapoint falls in. Bounds are offsets from the threshold; above it a step's lower bound
 * is inclusive and its upper exclusive, below it the other way round, so that the threshold itself belongs to
 * the steps on the alarm's side. Threshold 50: [0, 10) takes 50 ≤ m < 60, [10, ∞) takes m ≥ 60; (−10, 0]
 * takes 40 < m ≤ 50, (−∞, −10] takes m ≤ 40.
 */
export function stepFor(steps: readonly StepAdjustment[], metricValue: number, threshold: number): StepAdjustment | undefined {
  const offset = metricValue - threshold;
  return steps.find((step) => {
    const lower = step.metricIntervalLowerBound ?? -Infinity;
    const upper = step.metricIntervalUpperBound ?? Infinity;
    return offset >= 0 ? lower <= offset && offset < upper : lower < offset && offset <= upper;
  });
}

/**
 * The capacity a step asks for, from `current`:
 *   ChangeInCapacity +2 from 5 → 7; ExactCapacity 3 → 3;
 *   PercentChangeInCapacity rounds the change towards zero but never to nothing: +30 % of 11 = 3.3 → +3;
 *   −10 % of 14 = −1.4 → −1; +5 % of 4 = 0.2 → +1; −5 % of 4 = −0.2 → −1; and with minAdjustmentMagnitude 2,
 *   +25 % of 4 = +1 → +2.
 */
export function adjustedCapacity(current: number, type: AdjustmentType, adjustment: number, minAdjustmentMagnitude?: number): number {
  if (type === 'ExactCapacity') return adjustment;
  if (type === 'ChangeInCapacity') return current + adjustment;
  const raw = (current * adjustment) / 100;
  let change = raw === 0 ? 0 : Math.abs(raw) < 1 ? Math.sign(raw) : Math.trunc(raw);
  if (change !== 0 && minAdjustmentMagnitude !== undefined && Math.abs(change) < minAdjustmentMagnitude) change = Math.sign(change) * minAdjustmentMagnitude;
  return current + change;
}
