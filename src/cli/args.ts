import { parseAttributes } from '../agent/self-managed/registration';
import { logLevels, type LogLevel } from '../runtime/logger';
import type { AgentFlags } from './agent';
import type { DrainFlags, InstanceStatusChange } from './drain';
import { parseDuration } from './duration';

/**
 * The checks of `berth agent`, `berth drain` and `berth undrain` flags beyond what the command line
 * parser knows (program.ts declares the flags), made before anything connects: a mistake is reported with
 * the flag's name.
 */

/** Commander's values of `berth agent`'s flags, by attribute name. */
export type AgentOptions = Record<string, string | string[] | undefined>;

export function agentFlags(options: AgentOptions): AgentFlags {
  const text = (name: string) => options[name] as string | undefined;
  const leaseDurationMs = text('leaseDuration') !== undefined ? parseDuration('lease-duration', text('leaseDuration')!) : undefined;
  const renewIntervalMs = text('leaseRenewInterval') !== undefined ? parseDuration('lease-renew-interval', text('leaseRenewInterval')!) : undefined;
  // A Lease holds whole seconds, and a renewal must come before the last one lapses:
  //   e.g. --lease-duration 3s --lease-renew-interval 1s: fine; 1500ms is refused (not whole seconds); 2s with 2s is refused.
  if (leaseDurationMs !== undefined && leaseDurationMs % 1000 !== 0)
    throw new Error(`--lease-duration: "${text('leaseDuration')}" is not a whole number of seconds`);
  if ((renewIntervalMs ?? 10_000) >= (leaseDurationMs ?? 40_000))
    throw new Error('--lease-renew-interval must be shorter than --lease-duration (defaults 10s and 40s)');
  return {
    cluster: text('cluster')!,
    nodeGroup: text('nodeGroup')!,
    ...(text('namespace') !== undefined ? { namespace: text('namespace') } : {}),
    ...(text('kubeconfig') !== undefined ? { kubeconfig: text('kubeconfig') } : {}),
    ...(text('name') !== undefined ? { name: text('name') } : {}),
    reservedCpu: nonNegativeInteger('reserved-cpu', text('reservedCpu')!),
    reservedMemory: nonNegativeInteger('reserved-memory', text('reservedMemory')!),
    attributes: parseAttributes((options.attribute as string[] | undefined) ?? []),
    ...(text('availabilityZone') !== undefined ? { availabilityZone: text('availabilityZone') } : {}),
    ...(text('instanceType') !== undefined ? { instanceType: text('instanceType') } : {}),
    ...(leaseDurationMs !== undefined ? { leaseDurationSeconds: leaseDurationMs / 1000 } : {}),
    ...(renewIntervalMs !== undefined ? { leaseRenewIntervalMs: renewIntervalMs } : {}),
    logLevel: parseLogLevel(text('logLevel')!),
  };
}

/** The kinds `drain` accepts before the slash, as kubectl accepts a resource's names and short name. */
const instanceKinds = new Set(['instance', 'containerinstance', 'containerinstances', 'containerinstance.berth.dev', 'containerinstances.berth.dev', 'bci']);

export function drainFlags(change: InstanceStatusChange, target: string, options: { namespace?: string; kubeconfig?: string }): DrainFlags {
  const [kind, name, ...rest] = target.split('/');
  if (name === undefined || rest.length > 0 || name === '' || !instanceKinds.has(kind.toLowerCase())) {
    throw new Error(`${change}: "${target}" is not instance/NAME`);
  }
  return {
    change,
    name,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
  };
}

export function parseLogLevel(value: string): LogLevel {
  if (!(logLevels as readonly string[]).includes(value)) throw new Error(`--log-level: "${value}" is not one of ${logLevels.join(', ')}`);
  return value as LogLevel;
}

function nonNegativeInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--${flag}: "${value}" is not a whole number`);
  return Number(value);
}
