import { parseAttributes } from '../agent/self-managed/registration';
import { logLevels, type LogLevel } from '../runtime/logger';
import type { AgentFlags } from './agent';
import type { DrainFlags, InstanceStatusChange } from './drain';
import type { RolloutStatusFlags } from './rollout';

/**
 * The checks of `berth agent`, `berth drain`, `berth undrain` and `berth rollout status` flags beyond what the command line
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

export function parseLogLevel(value: string): LogLevel {
  if (!(logLevels as readonly string[]).includes(value)) throw new Error(`--log-level: "${value}" is not one of ${logLevels.join(', ')}`);
  return value as LogLevel;
}

function nonNegativeInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}
