import { Registry } from 'prom-client';
import { placementMetrics } from './placement-metrics';

describe('berth_tasks_awaiting_placement', () => {
  test('counts the waiting tasks of a cluster by reason; a reason no task waits for any more reads 0', async () => {
    const registry = new Registry();
    const metrics = placementMetrics(registry);
    metrics.report('ns', 'demo', [
      { uid: 'a', code: 'RESOURCE:MEMORY' },
      { uid: 'b', code: 'RESOURCE:MEMORY' },
      { uid: 'c', code: 'CONSTRAINT:memberOf' },
    ]);
    metrics.report('ns', 'other', [{ uid: 'd', code: 'RESOURCE:CPU' }]);
    const text = await registry.getSingleMetricAsString('berth_tasks_awaiting_placement');
    expect(text).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="RESOURCE:MEMORY"} 2');
    expect(text).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="CONSTRAINT:memberOf"} 1');

    metrics.report('ns', 'demo', [{ uid: 'c', code: 'CONSTRAINT:memberOf' }]);
    const after = await registry.getSingleMetricAsString('berth_tasks_awaiting_placement');
    expect(after).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="RESOURCE:MEMORY"} 0');
    expect(after).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="CONSTRAINT:memberOf"} 1');
    expect(after).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="other",reason="RESOURCE:CPU"} 1');
  });
});

describe('berth_placement_failures_total', () => {
  test('counts a task once per reason, however many batches it waits; again when its reason changes or it waits anew', async () => {
    const registry = new Registry();
    const metrics = placementMetrics(registry);
    const failures = async () => (await registry.getSingleMetric('berth_placement_failures_total')!.get()).values.map((v) => [v.labels.reason, v.value]);
    metrics.report('ns', 'demo', [{ uid: 'a', code: 'RESOURCE:MEMORY' }]);
    metrics.report('ns', 'demo', [{ uid: 'a', code: 'RESOURCE:MEMORY' }]);
    metrics.report('ns', 'demo', [{ uid: 'a', code: 'RESOURCE:CPU' }]);
    expect(await failures()).toEqual([
      ['RESOURCE:MEMORY', 1],
      ['RESOURCE:CPU', 1],
    ]);
    metrics.report('ns', 'demo', []); // placed
    metrics.report('ns', 'demo', [{ uid: 'a', code: 'RESOURCE:CPU' }]); // waiting again, e.g. after its instance went
    expect(await failures()).toEqual([
      ['RESOURCE:MEMORY', 1],
      ['RESOURCE:CPU', 2],
    ]);
  });
});

describe('a deleted cluster', () => {
  test('takes its series with it; other clusters keep theirs', async () => {
    const registry = new Registry();
    const metrics = placementMetrics(registry);
    metrics.report('ns', 'gone', [{ uid: 'a', code: 'RESOURCE:MEMORY' }]);
    metrics.report('ns', 'kept', [{ uid: 'b', code: 'RESOURCE:CPU' }]);
    metrics.forget('ns', 'gone');
    const clusters = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.map((v) => v.labels.cluster);
    expect(await clusters('berth_tasks_awaiting_placement')).toEqual(['kept']);
    expect(await clusters('berth_placement_failures_total')).toEqual(['kept']);
    // Made again under the same name, it starts from nothing.
    metrics.report('ns', 'gone', [{ uid: 'a', code: 'RESOURCE:MEMORY' }]);
    expect((await registry.getSingleMetric('berth_placement_failures_total')!.get()).values).toContainEqual(
      expect.objectContaining({ labels: { namespace: 'ns', cluster: 'gone', reason: 'RESOURCE:MEMORY' }, value: 1 }),
    );
  });
});
