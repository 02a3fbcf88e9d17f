import { Counter, type Registry } from 'prom-client';

/** Auto-scaling decisions, by direction only: bounded labels, whatever the number of services. */
export interface AutoScalingMetrics {
  decided(direction: 'out' | 'in'): void;
}

export function autoScalingMetrics(registry: Registry): AutoScalingMetrics {
  const decisions = new Counter({
    name: 'berth_autoscaling_decisions_total',
    help: 'Service auto-scaling decisions that changed desiredCount, by direction.',
    labelNames: ['direction'],
    registers: [registry],
  });
  for (const direction of ['out', 'in']) decisions.inc({ direction }, 0);
  return { decided: (direction) => decisions.inc({ direction }) };
}
