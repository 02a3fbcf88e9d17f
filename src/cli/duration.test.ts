import { parseDuration } from './duration';

describe('parseDuration', () => {
  it('reads the units Kubernetes components use, alone or combined', () => {
    expect(parseDuration('f', '15s')).toBe(15_000);
    expect(parseDuration('f', '500ms')).toBe(500);
    expect(parseDuration('f', '1.5s')).toBe(1500);
    expect(parseDuration('f', '1m30s')).toBe(90_000);
    expect(parseDuration('f', '2h')).toBe(7_200_000);
  });

  it('refuses what is not a positive duration, naming the flag', () => {
    for (const value of ['', '15', 's', '15x', '-1s', '0s', '10s junk', ' 10s']) {
      expect(() => parseDuration('leader-elect-lease-duration', value)).toThrow(`--leader-elect-lease-duration: "${value}" is not a positive duration`);
    }
  });
});
