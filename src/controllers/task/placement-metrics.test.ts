import { Registry } from 'prom-client';
import { placementMetrics } from './placement-metrics';

describe('berth_tasks_awaiting_placement', () => {
  test('counts the waiting tasks of a cluster by reason, and drops a reason no task waits for any more', async () => {
    const registry = new Registry();
    const metrics = placementMetrics(registry);
    metrics.report('ns', 'demo', ['RESOURCE:MEMORY', 'RESOURCE:MEMORY', 'CONSTRAINT:memberOf']);
    metrics.report('ns', 'other', ['RESOURCE:CPU']);
    const text = await registry.getSingleMetricAsString('berth_tasks_awaiting_placement');
    expect(text).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="RESOURCE:MEMORY"} 2');
    expect(text).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="CONSTRAINT:memberOf"} 1');

    metrics.report('ns', 'demo', ['CONSTRAINT:memberOf']);
    const after = await registry.getSingleMetricAsString('berth_tasks_awaiting_placement');
    expect(after).not.toContain('reason="RESOURCE:MEMORY"');
    expect(after).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="demo",reason="CONSTRAINT:memberOf"} 1');
    expect(after).toContain('berth_tasks_awaiting_placement{namespace="ns",cluster="other",reason="RESOURCE:CPU"} 1');
  });
});
