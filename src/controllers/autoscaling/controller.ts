import { group, services as serviceType, tasks as taskType, type Service, type Task } from '../../api';
import { setConditions, type DesiredCondition } from '../../ecs/conditions';
import { TaskIndex } from '../../ecs/indexes';
import { specOfTask } from '../../ecs/revisions/revision-lookup';
import type { ControllerRevision } from '../../ecs/revisions/revisions';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { MutationCache } from '../../runtime/mutation-cache';
import { keyOf, type ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { controllerRevisions, horizontalPodAutoscalers } from '../../store/builtin-types';
import type { KubeObject, ObjectStore } from '../../store/object-store';
import { tasksOfService } from '../service/service-tasks';
import { decideAutoScaling, type AutoScalingDecision, type AutoScalingSpec } from './decide-autoscaling';
import { autoScalingMetrics, type AutoScalingMetrics } from './metrics';
import { readRequestCount, requestCountPerTarget, type ExternalMetrics, type RequestCountReading } from './request-count';
import { serviceUtilization, type ScalingMetric } from './utilization';

/** An autoscaling/v2 HorizontalPodAutoscaler, as far as Berth reads it. */
export interface HorizontalPodAutoscaler extends KubeObject {
  spec?: { scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string } };
}

export interface AutoScalingControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  services: SharedInformer<Service>;
  tasks: SharedInformer<Task>;
  revisions: SharedInformer<ControllerRevision>;
  autoscalers: SharedInformer<HorizontalPodAutoscaler>;
  /** ECS's datapoints are a minute apart; agents report task usage on the same period. */
  periodMs: number;
  /** What ALBRequestCountPerTarget reads the service's requests from; none without a Kubernetes API. */
  externalMetrics?: ExternalMetrics;
  metrics?: AutoScalingMetrics;
  now?: () => Date;
}

const conditionType = 'ScalingActive';
const maxRequeueMs = 3_600_000;

/**
 * Service auto scaling: for each Service with `autoScaling`, takes a datapoint of its metrics every period
 * from what its tasks' agents reported (Task status.usage), runs scheduled actions, and changes
 * spec.desiredCount as Application Auto Scaling changes an ECS service's desired count. The service
 * controller then starts or stops tasks as for any other change of desiredCount.
 *
 * One writer of desiredCount at a time: a Service targeted by a HorizontalPodAutoscaler (scaleTargetRef
 * berth.dev Service of the same name, in its namespace) is the HPA's; Berth then takes no datapoint and
 * changes nothing, and says so in the ScalingActive condition, as KEDA refuses to add a second scaler.
 */
export class AutoScalingReconciler {
  private readonly now: () => Date;
  private readonly taskIndex: TaskIndex;
  private readonly services: MutationCache<Service>;

  constructor(private readonly deps: AutoScalingControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.taskIndex = new TaskIndex(deps.tasks);
    this.services = new MutationCache(deps.services);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const service = this.services.get(key.namespace, key.name);
    if (!service || service.metadata.deletionTimestamp) {
      this.services.forget(key.namespace, key.name);
      return;
    }
    const spec = service.spec.autoScaling;
    if (!spec) return this.clear(service);
    const hpa = this.autoscalerOf(service);
    if (hpa) {
      const bounds = {
        minCapacity: spec.minCapacity,
        maxCapacity: spec.maxCapacity,
        declaredMinCapacity: spec.minCapacity,
        declaredMaxCapacity: spec.maxCapacity,
      };
      await this.writeStatus(
        service,
        { ...(service.status?.autoScaling ?? bounds), horizontalPodAutoscaler: hpa },
        {
          type: conditionType,
          status: 'False',
          reason: 'ScaledByHorizontalPodAutoscaler',
          message: `HorizontalPodAutoscaler ${hpa} scales this Service through its scale subresource: autoScaling is not applied while it does (one writer of desiredCount)`,
          observedGeneration: service.metadata.generation,
        },
      );
      return;
    }
    const owned = service as Service & { spec: { autoScaling: AutoScalingSpec } };
    // A desiredCount decided on this very generation that is not in the spec: the patch after the status write was lost.
    const activity = service.status?.autoScaling?.lastScalingActivity;
    if (activity && activity.observedGeneration === service.metadata.generation && service.spec.desiredCount !== activity.to) {
      await this.setDesiredCount(service, activity.to);
      return;
    }

    const now = this.now();
    const tasks = tasksOfService(service, this.taskIndex.ofService(key.namespace, key.name));
    const specOf = (task: Task) => specOfTask(this.deps.revisions, task);
    const runningTasks = tasks.filter((task) => task.status?.lastStatus === 'RUNNING').length;
    // Read once per reconcile, due or not: one GET, and the condition says why a value is missing.
    const requestCount = spec.requestCountMetric && (await readRequestCount(this.deps.externalMetrics, key.namespace ?? 'default', spec.requestCountMetric));
    const decision = decideAutoScaling({
      service: owned,
      now,
      periodMs: this.deps.periodMs,
      datapoint: (metric, statistic) =>
        metric === 'ALBRequestCountPerTarget'
          ? requestCount && requestCountPerTarget(requestCount, runningTasks)
          : // Three periods: a report up to two periods late (a slow engine, a busy agent) still counts, as
            // CloudWatch waits for a late datapoint; an agent gone for longer is missing data.
            serviceUtilization(tasks, specOf, metric, statistic, now.getTime(), 3 * this.deps.periodMs),
      deploymentInProgress: (service.status?.deployments ?? []).some((d) => d.status === 'PRIMARY' && d.rolloutState === 'IN_PROGRESS'),
      runningTasks,
    });
    const written = await this.writeStatus(service, decision.status, this.condition(service, decision, requestCount));
    for (const effect of decision.effects) await this.deps.events.event(written, effect.kind, effect.reason, effect.message);
    if (decision.desiredCount !== undefined) {
      this.deps.metrics?.decided(decision.desiredCount > service.spec.desiredCount ? 'out' : 'in');
      context.log.info('auto scaling', { from: service.spec.desiredCount, to: decision.desiredCount, cause: decision.status.lastScalingActivity?.cause });
      await this.setDesiredCount(written, decision.desiredCount);
    }
    // At most an hour: an at() months ahead is further than a timer can wait (Node fires those at once).
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: Math.min(maxRequeueMs, Math.max(1, decision.requeueAfterMs)) } : undefined;
  }

  private condition(service: Service, decision: AutoScalingDecision, requestCount: RequestCountReading | undefined): DesiredCondition {
    const base = { type: conditionType, observedGeneration: service.metadata.generation };
    const alarms = decision.status.alarms ?? [];
    if (alarms.length === 0) {
      return (service.spec.autoScaling?.scheduledActions ?? []).length > 0
        ? { ...base, status: 'True', reason: 'ScheduledActionsOnly', message: 'the service has scheduled actions and no scaling policy' }
        : {
            ...base,
            status: 'True',
            reason: 'BoundsOnly',
            message: 'the service has no scaling policy or scheduled action: desiredCount is only kept within minCapacity..maxCapacity',
          };
    }
    const missing = alarms.filter((alarm) => alarm.state === 'INSUFFICIENT_DATA');
    const whyMissing = [...new Set(missing.map((alarm) => metricOfAlarm(service, alarm.name)))].map((metric) =>
      metric === 'ALBRequestCountPerTarget' && requestCount && 'missing' in requestCount ? requestCount.missing : noUsage,
    );
    if (missing.length === alarms.length) return { ...base, status: 'False', reason: 'NoMetricData', message: [...new Set(whyMissing)].join('; ') };
    return {
      ...base,
      status: 'True',
      reason: 'ValidMetrics',
      message: alarms.map((alarm) => `${alarm.name} ${alarm.state}${alarm.value !== undefined ? ` at ${alarm.value}` : ''}`).join('; '),
    };
  }

  /** The HPA in the Service's namespace whose scaleTargetRef is this Service, if any. */
  private autoscalerOf(service: Service): string | undefined {
    return this.deps.autoscalers.list().find((hpa) => hpa.metadata.namespace === service.metadata.namespace && targetsService(hpa, service.metadata.name))
      ?.metadata.name;
  }

  private async setDesiredCount(service: Service, desiredCount: number): Promise<void> {
    const written = await this.deps.store.patch<Service>(serviceType, service.metadata.namespace, service.metadata.name, {
      metadata: { resourceVersion: service.metadata.resourceVersion },
      spec: { desiredCount },
    });
    this.services.mutated(written);
  }

  /** autoScaling removed from the spec: its status and condition go with it. */
  private async clear(service: Service): Promise<void> {
    const status = service.status;
    if (!status?.autoScaling && !status?.conditions?.some((c) => c.type === conditionType)) return;
    const { autoScaling: _removed, ...rest } = status;
    const next = { ...rest, conditions: status.conditions?.filter((c) => c.type !== conditionType) };
    const written = await this.deps.store.updateStatus(serviceType, { ...service, status: next });
    this.services.mutated(written);
  }

  private async writeStatus(service: Service, autoScaling: NonNullable<Service['status']>['autoScaling'], condition: DesiredCondition): Promise<Service> {
    const next = { ...service.status, autoScaling, conditions: setConditions(service.status?.conditions, [condition], this.now()) };
    if (semanticallyEqual(next, service.status)) return service;
    const written = await this.deps.store.updateStatus(serviceType, { ...service, status: next });
    this.services.mutated(written);
    return written;
  }
}

const noUsage =
  'no RUNNING task of the service reported CPU and memory usage in the last three periods (tasks still starting, no CPU or memory reservation, or, for tasks that run as Pods, no resource metrics API: metrics.k8s.io, served by metrics-server, is missing, unavailable or has not sampled their Pods yet)';

/** The metric behind an alarm: a step policy's alarm has the policy's name, target tracking's names its metric. */
function metricOfAlarm(service: Service, alarmName: string): ScalingMetric | undefined {
  const step = service.spec.autoScaling?.stepScaling?.find((policy) => policy.name === alarmName);
  if (step) return step.metric;
  return service.spec.autoScaling?.targetTracking?.find((policy) => alarmName.startsWith(`TargetTracking-${policy.predefinedMetric}-`))?.predefinedMetric;
}

function targetsService(hpa: HorizontalPodAutoscaler, name: string): boolean {
  const target = hpa.spec?.scaleTargetRef;
  return target?.kind === 'Service' && target.name === name && target.apiVersion?.split('/')[0] === group;
}

export interface AutoScalingOptions {
  namespace?: string;
  periodMs: number;
  externalMetrics?: ExternalMetrics;
}

export function addAutoScalingController(manager: Manager, options: AutoScalingOptions): void {
  const deps: AutoScalingControllerDeps = {
    store: manager.store,
    events: manager.events,
    services: manager.informerFor<Service>(serviceType, options.namespace),
    tasks: manager.informerFor<Task>(taskType, options.namespace),
    revisions: manager.informerFor<ControllerRevision>(controllerRevisions, options.namespace),
    autoscalers: manager.informerFor<HorizontalPodAutoscaler>(horizontalPodAutoscalers, options.namespace),
    periodMs: options.periodMs,
    externalMetrics: options.externalMetrics,
    metrics: autoScalingMetrics(manager.registry),
    now: () => new Date(manager.clock.now()),
  };
  const reconciler = new AutoScalingReconciler(deps);
  manager
    .addController({ name: 'autoscaling', workers: 4, reconcile: (key, context) => reconciler.reconcile(key, context) })
    // Spec changes and deployment progress (scale-in waits for deployments); its own status writes are filtered out.
    .watch(deps.services, keyOf, {
      update: (old, next) => old.metadata.generation !== next.metadata.generation || !semanticallyEqual(old.status?.deployments, next.status?.deployments),
    })
    .watch(deps.autoscalers, (hpa) => {
      const target = hpa.spec?.scaleTargetRef;
      return target?.name && target.kind === 'Service' ? { namespace: hpa.metadata.namespace, name: target.name } : undefined;
    });
}
