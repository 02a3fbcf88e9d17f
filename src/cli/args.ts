import { parseAttributes } from '../agent/self-managed/registration';
import { logLevels, type LogLevel } from '../runtime/logger';
import type { AgentFlags } from './agent';
import type { DrainFlags, InstanceStatusChange } from './drain';
import type { ConnectionFlags } from './connection';
import type { DescribeServiceFlags } from './describe-service';
import type { LogsFlags } from './logs';
import type { RolloutStatusFlags } from './rollout';
import { maxTaskCount, type RunTaskFlags } from './run-task';
import type { StopTaskFlags } from './stop-task';

/**
 * The checks of the commands' flags beyond what the command line
 * parser knows (program.ts declares the flags), made before anything connects: a mistake is reported with
 * the flag's name.
 */

/** What commander parses `berth agent`'s flags to (durations in milliseconds already). */
export interface AgentOptions {
  cluster: string;
  nodeGroup: string;
  namespace?: string;
  kubeconfig?: string;
  name?: string;
  reservedCpu: string;
  reservedMemory: string;
  attribute: string[];
  availabilityZone?: string;
  instanceType?: string;
  leaseDuration?: number;
  leaseRenewInterval?: number;
  metricsPeriod?: number;
  logLevel: string;
}

export function agentFlags(options: AgentOptions): AgentFlags {
  const { leaseDuration: leaseDurationMs, leaseRenewInterval: renewIntervalMs } = options;
  // A renewal must come before the last one lapses (--lease-duration is whole seconds, program.ts checks):
  //   e.g. --lease-duration 3s --lease-renew-interval 1s: fine; 2s with 2s is refused.
  if ((renewIntervalMs ?? 10_000) >= (leaseDurationMs ?? 40_000))
    throw new Error('--lease-renew-interval must be shorter than --lease-duration (defaults 10s and 40s)');
  return {
    cluster: options.cluster,
    nodeGroup: options.nodeGroup,
    namespace: options.namespace,
    kubeconfig: options.kubeconfig,
    name: options.name,
    reservedCpu: nonNegativeInteger('reserved-cpu', options.reservedCpu),
    reservedMemory: nonNegativeInteger('reserved-memory', options.reservedMemory),
    attributes: parseAttributes(options.attribute),
    availabilityZone: options.availabilityZone,
    instanceType: options.instanceType,
    leaseDurationSeconds: leaseDurationMs === undefined ? undefined : leaseDurationMs / 1000,
    leaseRenewIntervalMs: renewIntervalMs,
    metricsPeriodMs: options.metricsPeriod,
    logLevel: parseLogLevel(options.logLevel),
  };
}

/** The kinds `drain` accepts before the slash, as kubectl accepts a resource's names and short name. */
const instanceKinds = new Set(['instance', 'containerinstance', 'containerinstances', 'containerinstance.berth.dev', 'containerinstances.berth.dev', 'bci']);

/** The kinds commands on a service accept before the slash (`service/web`, `bsvc/web`). */
const serviceKinds = new Set(['service', 'services', 'service.berth.dev', 'services.berth.dev', 'bsvc']);

/** The kinds commands on a task accept before the slash (`task/web-1`, `btask/web-1`). */
const taskKinds = new Set(['task', 'tasks', 'task.berth.dev', 'tasks.berth.dev', 'btask']);

/** NAME of `KIND/NAME` when KIND is one of `kinds`; otherwise a usage error saying what was expected. */
function targetName(command: string, target: string, kinds: ReadonlySet<string>, expected: string): string {
  const [kind, name, ...rest] = target.split('/');
  if (name === undefined || rest.length > 0 || name === '' || !kinds.has(kind.toLowerCase())) throw new Error(`${command}: "${target}" is not ${expected}`);
  return name;
}

export function drainFlags(change: InstanceStatusChange, target: string, options: { namespace?: string; kubeconfig?: string }): DrainFlags {
  const name = targetName(change, target, instanceKinds, 'instance/NAME');
  return { change, name, namespace: options.namespace, kubeconfig: options.kubeconfig };
}

export function rolloutStatusFlags(
  target: string,
  options: { namespace?: string; kubeconfig?: string; context?: string; timeout?: number },
): RolloutStatusFlags {
  const name = targetName('rollout status', target, serviceKinds, 'service/NAME');
  return { name, namespace: options.namespace, kubeconfig: options.kubeconfig, context: options.context, timeoutMs: options.timeout };
}

/** -n, --kubeconfig and --context, only those given. */
function connectionFlags(options: ConnectionFlags): ConnectionFlags {
  return {
    ...(options.namespace !== undefined && { namespace: options.namespace }),
    ...(options.kubeconfig !== undefined && { kubeconfig: options.kubeconfig }),
    ...(options.context !== undefined && { context: options.context }),
  };
}

export function describeServiceFlags(target: string, options: ConnectionFlags & { output?: 'yaml' | 'json' }): DescribeServiceFlags {
  const name = targetName('describe', target, serviceKinds, 'service/NAME');
  return { name, ...connectionFlags(options), ...(options.output !== undefined && { output: options.output }) };
}

export function stopTaskFlags(target: string, options: ConnectionFlags & { reason?: string }): StopTaskFlags {
  const name = targetName('stop-task', target, taskKinds, 'task/NAME');
  if (options.reason !== undefined && options.reason.length > 1024) throw new Error('--reason: at most 1024 characters (the limit of stoppedReason)');
  return { name, ...connectionFlags(options), ...(options.reason !== undefined && { reason: options.reason }) };
}

export function logsFlags(target: string, options: ConnectionFlags & { container?: string; follow: boolean; tail?: string }): LogsFlags {
  const name = targetName('logs', target, taskKinds, 'task/NAME');
  return {
    name,
    ...connectionFlags(options),
    follow: options.follow,
    ...(options.container !== undefined && { container: options.container }),
    // kubectl's --tail -1 means every line, as leaving it out does.
    ...(options.tail !== undefined && options.tail !== '-1' && { tail: nonNegativeInteger('tail', options.tail) }),
  };
}

/** What commander parses `berth run-task`'s flags to. */
export interface RunTaskOptions extends ConnectionFlags {
  taskDefinition: string;
  cluster: string;
  count: string;
  launchType?: 'EC2' | 'FARGATE';
  capacityProviderStrategy: string[];
  overrides?: string;
  group?: string;
  startedBy?: string;
  output?: 'yaml' | 'json' | 'name';
}

export function runTaskFlags(options: RunTaskOptions): RunTaskFlags {
  const count = nonNegativeInteger('count', options.count);
  if (count < 1 || count > maxTaskCount)
    throw new Error(`--count: "${options.count}" is not between 1 and ${maxTaskCount} (ECS RunTask starts at most ${maxTaskCount} tasks)`);
  if (!/^[^:]+(:[1-9]\d*)?$/.test(options.taskDefinition)) throw new Error(`--task-definition: "${options.taskDefinition}" is not FAMILY or FAMILY:REVISION`);
  if (options.launchType !== undefined && options.capacityProviderStrategy.length > 0)
    throw new Error('--launch-type and --capacity-provider-strategy are exclusive, as in ECS RunTask');
  return {
    ...connectionFlags(options),
    taskDefinition: options.taskDefinition,
    cluster: options.cluster,
    count,
    ...(options.launchType !== undefined && { launchType: options.launchType }),
    ...(options.capacityProviderStrategy.length > 0 && { capacityProviderStrategy: options.capacityProviderStrategy.map(strategyItem) }),
    ...(options.overrides !== undefined && { overrides: parseOverrides(options.overrides) }),
    ...(options.group !== undefined && { group: options.group }),
    ...(options.startedBy !== undefined && { startedBy: options.startedBy }),
    ...(options.output !== undefined && { output: options.output }),
  };
}

type StrategyItem = NonNullable<RunTaskFlags['capacityProviderStrategy']>[number];

/** The AWS CLI's shorthand of one item: `capacityProvider=edge,weight=1,base=0` (weight and base default to 0). */
function strategyItem(text: string): StrategyItem {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key, value, ...rest] = part.split('=');
    if (value === undefined || rest.length > 0 || !['capacityProvider', 'weight', 'base'].includes(key) || fields.has(key))
      throw new Error(`--capacity-provider-strategy: "${text}" is not capacityProvider=NAME[,weight=N][,base=N]`);
    fields.set(key, value);
  }
  const capacityProvider = fields.get('capacityProvider');
  if (!capacityProvider) throw new Error(`--capacity-provider-strategy: "${text}" names no capacityProvider`);
  return {
    capacityProvider,
    weight: nonNegativeInteger('capacity-provider-strategy weight', fields.get('weight') ?? '0'),
    base: nonNegativeInteger('capacity-provider-strategy base', fields.get('base') ?? '0'),
  };
}

/** ECS RunTask's `overrides` as JSON: an object; the API server checks its fields against the Task schema. */
function parseOverrides(text: string): RunTaskFlags['overrides'] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--overrides: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('--overrides: not a JSON object such as {"containerOverrides":[...]}');
  return value;
}

export function parseLogLevel(value: string): LogLevel {
  if (!(logLevels as readonly string[]).includes(value)) throw new Error(`--log-level: "${value}" is not one of ${logLevels.join(', ')}`);
  return value as LogLevel;
}

function nonNegativeInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}
