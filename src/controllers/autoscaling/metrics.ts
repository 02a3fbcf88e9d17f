import { Counter, type Registry } from 'prom-client';

/** Auto-scaling changes of desiredCount, by direction only: bounded labels, whatever the number of services. */
export interface AutoScalingMetrics {
  decided(direction: 'out' | 'in'): void;
}

export function autoScalingMetrics(registry: Registry): AutoScalingMetrics {
  const decisions = new Counter({
    name: 'berth_autoscaling_decisions_total',
    help: 'Changes of desiredCount by service auto scaling (policies, scheduled actions, bounds), by direction.',
    labelNames: ['direction'],
    registers: [registry],
  });
  for (const direction of ['out', 'in']) decisions.inc({ direction }, 0);
  return { decided: (direction) => decisions.inc({ direction }) };
}
