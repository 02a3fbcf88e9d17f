import { targetTrackingCapacity } from './target-tracking';

describe('targetTrackingCapacity: running × metric / target, rounded up', () => {
  test.each([
    [4, 80, 50, 7], // 6.4: never too little
    [10, 20, 50, 4],
    [10, 41, 50, 9], // 8.2: never too much removed
    [3, 50, 50, 3], // exactly on target: no floating-point 4
    [3, 100, 60, 5],
    [1, 0, 50, 0],
  ])('%d tasks at %d%%, target %d%% → %d', (running, metric, target, expected) => {
    expect(targetTrackingCapacity(running, metric, target)).toBe(expected);
  });
});
