import { CountingStore } from './counting-store';
import { errorLine, resultLine, type Measurement } from './report';
import { percentile } from './stats';
import { parseLines, renderTable } from './table';
import { MemoryStore } from '../../src/store/memory/memory-store';
import { configMaps } from '../../src/store/builtin-types';

const measurement: Measurement = {
  case: 'convergence/memory',
  value: 30,
  unit: 's',
  baseline: 20,
  baselineIs: 'a plain loop',
  target: { value: { op: '<=', limit: 60 }, ratio: { op: '<=', limit: 1.5 } },
};

describe('result lines', () => {
  it('carry the ratio to the baseline and whether every bound holds', () => {
    expect(resultLine(measurement)).toMatchObject({ ratio: 1.5, met: true });
    expect(resultLine({ ...measurement, value: 31 })).toMatchObject({ ratio: 1.55, met: false });
    expect(resultLine({ ...measurement, target: { value: { op: '<', limit: 30 } } }).met).toBe(false);
  });

  it('have no ratio when the baseline is 0, and then fail a ratio bound but not a value bound', () => {
    expect(resultLine({ ...measurement, baseline: 0 })).toMatchObject({ ratio: null, met: false });
    expect(resultLine({ ...measurement, baseline: 0, target: { value: { op: '<', limit: 1 } }, value: 0.5 })).toMatchObject({ ratio: null, met: true });
  });

  it('name the case and the error when a case fails, with every figure field present and null', () => {
    expect(errorLine('growth', new Error('timed out'), { perTaskMs: { 1000: 2 } })).toEqual({
      case: 'growth',
      value: null,
      unit: null,
      baseline: null,
      ratio: null,
      target: null,
      error: 'timed out',
      details: { perTaskMs: { 1000: 2 } },
    });
  });
});

describe('bench:table', () => {
  it('renders one row per JSON line: figures, the target in words, a scaled size and an error', () => {
    const text = [
      JSON.stringify(resultLine(measurement)),
      '',
      JSON.stringify(resultLine({ ...measurement, case: 'convergence/kube-apiserver', value: 90, details: { scale: 0.1 } })),
      JSON.stringify(errorLine('docker', 'no | engine')),
    ].join('\n');
    expect(renderTable(parseLines(text)).split('\n')).toEqual([
      '| case | value | unit | baseline | ratio | target | met? |',
      '|---|---|---|---|---|---|---|',
      '| convergence/memory | 30 | s | 20 | 1.5 | value ≤ 60 s, ratio ≤ 1.5 | yes |',
      '| convergence/kube-apiserver (scale 0.1) | 90 | s | 20 | 4.5 | value ≤ 60 s, ratio ≤ 1.5 | **no** |',
      '| docker | — | — | — | — | — | **error**: no \\| engine |',
      '',
    ]);
  });

  it('refuses a line that is not a bench result, naming it', () => {
    expect(() => parseLines('{"case":"a","value":1}\nnpm WARN something')).toThrow(/line 2 is not JSON/);
    expect(() => parseLines('{"value":1}')).toThrow(/line 1 is not a bench result/);
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile([], 99)).toBeNaN();
  });
});

describe('CountingStore', () => {
  it('counts writes and 409s by resource and verb, and the peak of writes in flight', async () => {
    const store = new CountingStore(new MemoryStore());
    const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name } });
    await Promise.all(['a', 'b', 'c'].map((name) => store.create(configMaps, configMap(name))));
    await expect(store.create(configMaps, configMap('a'))).rejects.toThrow();
    expect(store.takeCounts()).toEqual({ 'configmaps.create': { writes: 4, conflicts: 0, alreadyExists: 1, errors: 0 } });
    expect(store.takeConcurrency(configMaps).peak).toBe(3);
    expect(store.takeConcurrency(configMaps).peak).toBe(0);
  });
});
