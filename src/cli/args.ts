import { parseArgs } from 'node:util';
import { parseAttributes } from '../agent/self-managed/registration';
import { logLevels, type LogLevel } from '../runtime/logger';
import type { AgentFlags } from './agent';
import type { DrainFlags, InstanceStatusChange } from './drain';
import { parseDuration } from './duration';

/**
 * The arguments of `berth agent`, `berth drain` and `berth undrain`, checked before anything connects:
 * a mistake is reported with the flag's name and the process exits 1.
 */

export function parseAgentArgs(args: string[], env: NodeJS.ProcessEnv = process.env): AgentFlags {
  const { values } = parseArgs({
    args,
    options: {
      cluster: { type: 'string' },
      'node-group': { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      name: { type: 'string' },
      'reserved-cpu': { type: 'string', default: '0' },
      'reserved-memory': { type: 'string', default: '0' },
      attribute: { type: 'string', multiple: true, default: [] },
      'availability-zone': { type: 'string' },
      'instance-type': { type: 'string' },
      'lease-duration': { type: 'string' },
      'lease-renew-interval': { type: 'string' },
      'log-level': { type: 'string', default: env.BERTH_LOG_LEVEL ?? 'info' },
    },
  });
  if (!values.cluster) throw new Error('--cluster is required: the Cluster the host registers to');
  if (!values['node-group']) throw new Error('--node-group is required: a selfManaged node group of the cluster');
  const leaseDurationMs = values['lease-duration'] !== undefined ? parseDuration('lease-duration', values['lease-duration']) : undefined;
  const renewIntervalMs = values['lease-renew-interval'] !== undefined ? parseDuration('lease-renew-interval', values['lease-renew-interval']) : undefined;
  // A Lease holds whole seconds, and a renewal must come before the last one lapses:
  //   e.g. --lease-duration 3s --lease-renew-interval 1s: fine; 1500ms is refused (not whole seconds); 2s with 2s is refused.
  if (leaseDurationMs !== undefined && leaseDurationMs % 1000 !== 0)
    throw new Error(`--lease-duration: "${values['lease-duration']}" is not a whole number of seconds`);
  if ((renewIntervalMs ?? 10_000) >= (leaseDurationMs ?? 40_000))
    throw new Error('--lease-renew-interval must be shorter than --lease-duration (defaults 10s and 40s)');
  return {
    cluster: values.cluster,
    nodeGroup: values['node-group'],
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    reservedCpu: nonNegativeInteger('reserved-cpu', values['reserved-cpu']),
    reservedMemory: nonNegativeInteger('reserved-memory', values['reserved-memory']),
    attributes: parseAttributes(values.attribute),
    ...(values['availability-zone'] !== undefined ? { availabilityZone: values['availability-zone'] } : {}),
    ...(values['instance-type'] !== undefined ? { instanceType: values['instance-type'] } : {}),
    ...(leaseDurationMs !== undefined ? { leaseDurationSeconds: leaseDurationMs / 1000 } : {}),
    ...(renewIntervalMs !== undefined ? { leaseRenewIntervalMs: renewIntervalMs } : {}),
    logLevel: parseLogLevel(values['log-level']),
  };
}

/** The kinds `drain` accepts before the slash, as kubectl accepts a resource's names and short name. */
const instanceKinds = new Set(['instance', 'containerinstance', 'containerinstances', 'containerinstance.berth.dev', 'containerinstances.berth.dev', 'bci']);

export function parseDrainArgs(change: InstanceStatusChange, args: string[]): DrainFlags {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { namespace: { type: 'string', short: 'n' }, kubeconfig: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error(`${change} takes one instance: berth ${change} instance/NAME [-n NS]`);
  const [kind, name, ...rest] = positionals[0].split('/');
  if (name === undefined || rest.length > 0 || name === '' || !instanceKinds.has(kind.toLowerCase())) {
    throw new Error(`${change}: "${positionals[0]}" is not instance/NAME`);
  }
  return {
    change,
    name,
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
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
