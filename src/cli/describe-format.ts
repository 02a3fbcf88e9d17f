import { deploymentLimits, type Service, type ServiceDeployment, type Task } from '../api';
import type { CoreEvent } from '../runtime/events';

/**
 * `berth describe service/NAME` as text: what the ECS console's service page shows (summary, deployments,
 * tasks), in kubectl describe's layout (aligned `Field:  value` lines, indented tables, Events last with
 * kubectl's ages). Pure: the objects and the time in, the text out.
 */

/** The Events this view reads: core/v1 Events as Berth's recorder writes them (events.k8s.io serves the same objects). */
export type ServiceEvent = Pick<CoreEvent, 'type' | 'reason' | 'message' | 'count' | 'firstTimestamp' | 'lastTimestamp' | 'source'> & {
  metadata: { name: string; creationTimestamp?: string };
  eventTime?: string;
};

/** Stopped tasks shown: the most recent ones, as the ECS console lists recently stopped tasks. */
const shownStoppedTasks = 5;

export function describeService(service: Service, tasks: Task[], events: ServiceEvent[], now: number): string {
  const { spec, status } = service;
  const limits = deploymentLimits(spec);
  const breaker = spec.deploymentConfiguration.deploymentCircuitBreaker;
  const lines: string[] = [];
  fields(lines, '', [
    ['Name', service.metadata.name],
    ['Namespace', service.metadata.namespace ?? ''],
    ['Cluster', spec.cluster],
    ['Task Definition', taskDefinitionText(service)],
    launchField(service),
    ['Scheduling Strategy', spec.schedulingStrategy],
    ['Status', service.metadata.deletionTimestamp ? 'DRAINING (being deleted)' : 'ACTIVE'],
    ['Desired', String(status?.desiredCount ?? (spec.schedulingStrategy === 'REPLICA' ? spec.desiredCount : '<unknown>'))],
    ['Running', String(status?.runningCount ?? 0)],
    ['Pending', String(status?.pendingCount ?? 0)],
    ['Placement Constraints', (spec.placementConstraints ?? []).map((c) => (c.expression ? `${c.type}(${c.expression})` : c.type)).join(', ') || '<none>'],
    ['Placement Strategy', (spec.placementStrategy ?? []).map((p) => (p.field ? `${p.type}(${p.field})` : p.type)).join(', ') || '<default>'],
    ...(spec.autoScaling ? [autoScalingField(service)] : []),
  ]);
  lines.push('Deployment Configuration:');
  fields(lines, '  ', [
    ['Minimum Healthy Percent', String(limits.minimumHealthyPercent)],
    ['Maximum Percent', String(limits.maximumPercent)],
    ['Circuit Breaker', breaker.enable ? `enabled${breaker.rollback ? ', rollback' : ''}` : 'disabled'],
    ...(spec.healthCheckGracePeriodSeconds !== undefined ? [['Health Check Grace Period', `${spec.healthCheckGracePeriodSeconds}s`] as const] : []),
  ]);
  conditionLines(lines, service);
  deploymentLines(lines, status?.deployments ?? [], now);
  taskLines(lines, tasks, now);
  eventLines(lines, events, now);
  return `${lines.join('\n')}\n`;
}

function taskDefinitionText(service: Service): string {
  const running = service.status?.taskDefinition;
  if (!running) return `${service.spec.taskDefinition} (not resolved yet)`;
  return running === service.spec.taskDefinition ? running : `${running} (spec: ${service.spec.taskDefinition})`;
}

function launchField(service: Service): [string, string] {
  const strategy = service.spec.capacityProviderStrategy ?? [];
  if (strategy.length === 0) return ['Launch Type', service.spec.launchType ?? 'EC2 (default)'];
  return ['Capacity Provider Strategy', strategy.map((item) => `${item.capacityProvider} (base ${item.base}, weight ${item.weight})`).join(', ')];
}

/** The declared bounds, and those in force when a scheduled action changed them. */
function autoScalingField(service: Service): [string, string] {
  const declared = service.spec.autoScaling!;
  const inForce = service.status?.autoScaling;
  const changed = inForce && (inForce.minCapacity !== declared.minCapacity || inForce.maxCapacity !== declared.maxCapacity);
  return [
    'Auto Scaling',
    `min ${declared.minCapacity}, max ${declared.maxCapacity}${changed ? ` (in force: min ${inForce.minCapacity}, max ${inForce.maxCapacity})` : ''}`,
  ];
}

function conditionLines(lines: string[], service: Service): void {
  const conditions = service.status?.conditions ?? [];
  if (conditions.length === 0) return;
  lines.push('Conditions:');
  table(
    lines,
    ['Type', 'Status', 'Reason', 'Message'],
    conditions.map((c) => [c.type, c.status, c.reason, c.message]),
  );
}

function deploymentLines(lines: string[], deployments: ServiceDeployment[], now: number): void {
  if (deployments.length === 0) {
    lines.push('Deployments:  <none>');
    return;
  }
  lines.push('Deployments:');
  table(
    lines,
    ['Status', 'Id', 'Revision', 'Rollout', 'Desired', 'Pending', 'Running', 'Failed', 'Created', 'Updated'],
    deployments.map((d) => [
      d.status,
      d.id,
      d.taskDefinition,
      d.rolloutState,
      String(d.desiredCount),
      String(d.pendingCount),
      String(d.runningCount),
      String(d.failedTasks),
      ageOf(d.createdAt, now),
      ageOf(d.updatedAt, now),
    ]),
  );
  for (const d of deployments.filter((d) => d.rolloutStateReason)) lines.push(`  ${d.id} ${d.rolloutState}: ${d.rolloutStateReason}`);
}

function taskLines(lines: string[], tasks: Task[], now: number): void {
  const live = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED').sort((a, b) => compare(a.metadata.name, b.metadata.name));
  const stopped = tasks
    .filter((t) => t.status?.lastStatus === 'STOPPED')
    .sort((a, b) => compare(b.status?.stoppedAt ?? '', a.status?.stoppedAt ?? ''))
    .slice(0, shownStoppedTasks);
  if (live.length + stopped.length === 0) {
    lines.push('Tasks:  <none>');
    return;
  }
  lines.push('Tasks:');
  table(
    lines,
    ['Name', 'Revision', 'Last Status', 'Desired', 'Health', 'Instance', 'Started', 'Stopped Reason'],
    [...live, ...stopped].map((t) => [
      t.metadata.name,
      t.spec.taskDefinition,
      t.status?.lastStatus ?? 'PROVISIONING',
      t.spec.desiredStatus,
      t.status?.healthStatus ?? 'UNKNOWN',
      t.spec.containerInstance ?? (t.spec.capacityProviderName === 'FARGATE' ? 'FARGATE' : '<none>'),
      ageOf(t.status?.startedAt, now),
      t.status?.lastStatus === 'STOPPED' ? `${t.status.stoppedReason ?? ''} (${ageOf(t.status.stoppedAt, now)} ago)` : '',
    ]),
  );
}

function eventLines(lines: string[], events: ServiceEvent[], now: number): void {
  if (events.length === 0) {
    lines.push('Events:  <none>');
    return;
  }
  lines.push('Events:');
  const sorted = [...events].sort((a, b) => compare(lastSeen(a), lastSeen(b)));
  table(
    lines,
    ['Type', 'Reason', 'Age', 'From', 'Message'],
    sorted.map((e) => {
      const age = e.count > 1 ? `${ageOf(lastSeen(e), now)} (x${e.count} over ${ageOf(firstSeen(e), now)})` : ageOf(lastSeen(e), now);
      return [e.type, e.reason, age, e.source?.component ?? '', e.message.trim()];
    }),
    ['----', '------', '----', '----', '-------'],
  );
}

const lastSeen = (e: ServiceEvent) => e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp || '';
const firstSeen = (e: ServiceEvent) => e.firstTimestamp || e.eventTime || e.metadata.creationTimestamp || '';

/** Code-point order, so the output does not depend on the locale. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `Field:  value` lines, the values aligned as kubectl describe aligns them. */
function fields(lines: string[], indent: string, rows: readonly (readonly [string, string])[]): void {
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  for (const [name, value] of rows) lines.push(`${indent}${`${name}:`.padEnd(width + 1)}${value}`);
}

/** An indented table, columns two spaces apart (kubectl's tabwriter); with `rule`, kubectl's dashed line under the header of Events. */
function table(lines: string[], header: string[], rows: string[][], rule?: string[]): void {
  const all = rule ? [header, rule, ...rows] : [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  for (const row of all) lines.push(`  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + 2))).join('')}`.trimEnd());
}

/** kubectl's age of a timestamp (`<unknown>` without one), e.g. 45s, 3m20s, 5h, 12d. */
function ageOf(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - Date.parse(timestamp));
}

/** apimachinery's duration.HumanDuration: the precision kubectl shows ages with. */
export function humanDuration(ms: number): string {
  // Go's int() truncates toward zero: a clock half a second behind still reads 0s.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}
