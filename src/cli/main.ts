#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runAgent } from './agent';
import { parseAgentArgs, parseDrainArgs, parseLogLevel } from './args';
import { runDrain } from './drain';
import { parseDuration } from './duration';
import { runLocal } from './local';
import { runOperator } from './operator';

const usage = `berth — the Amazon ECS model on Kubernetes

Usage:
  berth local [--dir DIR] [--provider simulated] [--once] [--log-level LEVEL] [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR]
      The controllers on the embedded store, fed from a directory of manifests (default: examples/),
      re-applied whenever a file changes. Managed node groups run on the local Docker engine;
      --provider simulated runs them all simulated (no containers, no Docker needed).
  berth operator [--kubeconfig FILE] [--namespace NS] [--leader-elect] [--leader-election-namespace NS]
                 [--leader-elect-lease-duration D] [--leader-elect-renew-deadline D] [--leader-elect-retry-period D]
                 [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR] [--disconnected-instance-grace D]
                 [--webhook-bind-address ADDR (0: off, the default; :9443 in deploy/)] [--webhook-service NAME]
                 [--webhook-secret NAME] [--webhook-configuration NAME]
      The controllers against a Kubernetes API server (in-cluster config, --kubeconfig, $KUBECONFIG or ~/.kube/config).
      Leader election defaults to 15s / 10s / 2s: a leader that cannot renew for the renew deadline (an API
      server down that long) steps down and exits. The tasks of an instance whose agent stopped reporting
      are stopped (and their services replace them elsewhere) once it has been silent for
      --disconnected-instance-grace (default 5m).
  berth agent --cluster NAME --node-group NAME [--namespace NS] [--kubeconfig FILE] [--name INSTANCE]
              [--reserved-cpu N] [--reserved-memory MiB] [--attribute k=v ...] [--availability-zone Z]
              [--instance-type T] [--lease-duration D] [--lease-renew-interval D] [--log-level LEVEL]
      The agent of a self-managed host: registers this Docker engine (DOCKER_HOST or the default socket)
      as a ContainerInstance of the cluster's selfManaged node group (named after the host unless --name),
      offering its CPUs x 1024 and its memory in MiB minus what is reserved for the host, with the
      attributes ecs.os-type, ecs.cpu-architecture, ecs.availability-zone and ecs.instance-type (when
      given) and the --attribute ones; renews its heartbeat Lease (40s, renewed every 10s) and runs the
      tasks placed on it. SIGTERM stops it and leaves the containers running; started again, it re-adopts them.
  berth drain instance/NAME [-n NS] [--kubeconfig FILE]
      No new tasks land on the instance; its service tasks move elsewhere within their deployment limits;
      standalone tasks finish (spec.status DRAINING).
  berth undrain instance/NAME [-n NS] [--kubeconfig FILE]
      The instance takes tasks again (spec.status ACTIVE).
  berth version

ADDR is host:port, :port, or 0 to turn the server off. D is a duration such as 15s, 500ms or 1m30s.`;

const version = '0.1.0';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'local': {
      const { values } = parseArgs({
        args: rest,
        options: {
          dir: { type: 'string' },
          provider: { type: 'string' },
          once: { type: 'boolean', default: false },
          'log-level': { type: 'string', default: process.env.BERTH_LOG_LEVEL ?? 'warn' },
          'metrics-bind-address': { type: 'string', default: '127.0.0.1:8080' },
          'health-probe-bind-address': { type: 'string', default: '127.0.0.1:8081' },
        },
      });
      if (values.provider !== undefined && values.provider !== 'simulated')
        throw new Error(`--provider: "${values.provider}" is not supported: only simulated overrides the manifests`);
      return runLocal({
        dir: values.dir,
        ...(values.provider ? { provider: 'simulated' as const } : {}),
        once: values.once ?? false,
        logLevel: parseLogLevel(values['log-level']),
        metricsBindAddress: values['metrics-bind-address'],
        healthProbeBindAddress: values['health-probe-bind-address'],
      });
    }
    case 'operator': {
      const { values } = parseArgs({
        args: rest,
        options: {
          kubeconfig: { type: 'string' },
          namespace: { type: 'string' },
          'leader-elect': { type: 'boolean', default: false },
          'leader-election-namespace': { type: 'string' },
          'leader-elect-lease-duration': { type: 'string' },
          'leader-elect-renew-deadline': { type: 'string' },
          'leader-elect-retry-period': { type: 'string' },
          'metrics-bind-address': { type: 'string', default: ':8080' },
          'health-probe-bind-address': { type: 'string', default: ':8081' },
          'webhook-bind-address': { type: 'string', default: '0' },
          'webhook-service': { type: 'string', default: 'berth-webhook' },
          'webhook-secret': { type: 'string', default: 'berth-webhook-tls' },
          'webhook-configuration': { type: 'string', default: 'berth-webhook' },
          'disconnected-instance-grace': { type: 'string' },
        },
      });
      return runOperator({
        kubeconfig: values.kubeconfig,
        namespace: values.namespace,
        leaderElect: values['leader-elect'] ?? false,
        leaderElectionNamespace: values['leader-election-namespace'],
        ...durationFlag('leaseDurationMs', 'leader-elect-lease-duration', values['leader-elect-lease-duration']),
        ...durationFlag('renewDeadlineMs', 'leader-elect-renew-deadline', values['leader-elect-renew-deadline']),
        ...durationFlag('retryPeriodMs', 'leader-elect-retry-period', values['leader-elect-retry-period']),
        metricsBindAddress: values['metrics-bind-address'],
        healthProbeBindAddress: values['health-probe-bind-address'],
        webhook: {
          bindAddress: values['webhook-bind-address'],
          service: values['webhook-service'],
          secret: values['webhook-secret'],
          configuration: values['webhook-configuration'],
        },
        ...durationFlag('disconnectedInstanceGraceMs', 'disconnected-instance-grace', values['disconnected-instance-grace']),
      });
    }
    case 'agent':
      return runAgent(parseAgentArgs(rest));
    case 'drain':
    case 'undrain':
      return runDrain(parseDrainArgs(command, rest), {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      });
    case 'version':
    case '--version':
      process.stdout.write(`berth ${version}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`berth: unknown command "${command}"\n\n${usage}\n`);
      return 2;
  }
}

function durationFlag<K extends string>(key: K, flag: string, value: string | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: parseDuration(flag, value) } as Record<K, number>);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`berth: ${error.message}\n`);
    process.exit(1);
  },
);
