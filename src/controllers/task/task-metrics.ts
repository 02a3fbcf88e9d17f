import { Counter, Histogram, type Registry } from 'prom-client';
import { fargateCapacityProvider, type Task } from '../../api';
import type { SharedInformer } from '../../runtime/informer';

/** Launch durations: from a second to ten minutes (an image pull over a slow link). */
const launchBuckets = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

const launchType = (task: Task) => (task.spec.capacityProviderName === fargateCapacityProvider ? 'FARGATE' : 'EC2');

/**
 * Task lifecycle metrics, from the transitions the cache shows this process (the leader, once its controllers
 * start): how long tasks take from created to RUNNING, and why they stop, by ECS's stop code (five values: the
 * label set stays small whatever the number of tasks). A task already RUNNING or STOPPED when the process
 * starts is not counted: its transition happened under another leader.
 */
export function watchTaskMetrics(registry: Registry, tasks: SharedInformer<Task>): void {
  const launch = new Histogram({
    name: 'berth_task_launch_duration_seconds',
    help: 'Seconds from a task created to RUNNING (image pulls, dependsOn, health checks included), by launch type.',
    labelNames: ['launch_type'] as const,
    buckets: launchBuckets,
    registers: [registry],
  });
  const stops = new Counter({
    name: 'berth_task_stops_total',
    help: "Tasks that reached STOPPED, by ECS's stop code (EssentialContainerExited, TaskFailedToStart, UserInitiated, ServiceSchedulerInitiated, TerminationNotice).",
    labelNames: ['stop_code'] as const,
    registers: [registry],
  });
  tasks.addEventHandler({
    onUpdate: (old, next) => {
      const before = old.status?.lastStatus;
      const after = next.status?.lastStatus;
      if (before === after) return;
      if (after === 'RUNNING' && next.status?.startedAt && next.metadata.creationTimestamp) {
        // e.g. created 12:00:00, RUNNING at 12:00:07 (a 5 s pull, a 2 s start): 7 s.
        const seconds = (Date.parse(next.status.startedAt) - Date.parse(next.metadata.creationTimestamp)) / 1000;
        if (seconds >= 0) launch.observe({ launch_type: launchType(next) }, seconds);
      }
      if (after === 'STOPPED') stops.inc({ stop_code: next.status?.stopCode ?? 'Unknown' });
    },
  });
}
