import { Command, CommanderError, Option } from 'commander';
import type { AgentFlags } from './agent';
import {
  agentFlags,
  describeServiceFlags,
  drainFlags,
  logsFlags,
  parseLogLevel,
  rolloutStatusFlags,
  runTaskFlags,
  stopTaskFlags,
  type AgentOptions,
  type RunTaskOptions,
} from './args';
import type { ConnectionFlags } from './connection';
import type { DescribeServiceFlags } from './describe-service';
import type { DrainFlags, InstanceStatusChange } from './drain';
import { parseDuration } from './duration';
import type { ImportFlags } from './import';
import type { LocalFlags } from './local';
import type { LogsFlags } from './logs';
import type { OperatorFlags } from './operator';
import type { RolloutStatusFlags } from './rollout';
import type { RunTaskFlags } from './run-task';
import type { StopTaskFlags } from './stop-task';

/** What each command runs once its flags are checked; each resolves with the process's exit code. */
export interface CliActions {
  local(flags: LocalFlags): Promise<number>;
  operator(flags: OperatorFlags): Promise<number>;
  agent(flags: AgentFlags): Promise<number>;
  drain(flags: DrainFlags): Promise<number>;
  rolloutStatus(flags: RolloutStatusFlags): Promise<number>;
  describeService(flags: DescribeServiceFlags): Promise<number>;
  logs(flags: LogsFlags): Promise<number>;
  runTask(flags: RunTaskFlags): Promise<number>;
  stopTask(flags: StopTaskFlags): Promise<number>;
  importEcs(flags: ImportFlags): Promise<number>;
}

export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const version = '0.1.0';

/**
 * Runs `berth ARGS` (also `kubectl berth ARGS`): every command and flag declared once, with `--help` on
 * each. A mistake in the command line is reported with the flag's name and exits 1, as kubectl's
 * `error: unknown flag` does (kubectl has no separate usage code); a command that fails once running exits
 * with its own code.
 */
export async function runCli(argv: string[], actions: CliActions, output: CliOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code = 0;
  const done = (exitCode: number) => {
    code = exitCode;
  };
  const program = berthProgram(actions, done, env, output);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end here too, with exit code 0.
    return error.exitCode === 0 ? 0 : 1;
  }
}

function berthProgram(actions: CliActions, done: (code: number) => void, env: NodeJS.ProcessEnv, output: CliOutput): Command {
  // Set before the commands are added: each command copies them from the program as it is made.
  const program = new Command('berth')
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride()
    .description('The Amazon ECS model on Kubernetes: clusters, task definitions and services, placed and rolled out as ECS does.')
    .version(version, '--version', 'the version of berth')
    .helpCommand('help [command]', 'the help of a command')
    .showHelpAfterError('(berth --help lists the commands; berth COMMAND --help their flags)')
    .addHelpText('after', '\nADDR is host:port, :port, or 0 to turn the server off. D is a duration such as 15s, 500ms or 1m30s.');

  program
    .command('local')
    .description(
      'The controllers on the embedded store, fed from a directory of manifests (default: examples/), re-applied whenever a file changes. ' +
        'Managed node groups run on the local Docker engine; --provider simulated runs them all simulated (no containers, no Docker needed).',
    )
    .option('--dir <DIR>', 'the directory of manifests')
    .addOption(new Option('--provider <PROVIDER>', 'run every managed node group on this provider, whatever the manifests say').choices(['simulated']))
    .option('--once', 'apply once, print what was reconciled, exit', false)
    .option('--log-level <LEVEL>', 'controller logs on stderr: error, warn, info or debug', env.BERTH_LOG_LEVEL ?? 'warn')
    .option('--metrics-bind-address <ADDR>', 'where Prometheus metrics are served', '127.0.0.1:8080')
    .option('--health-probe-bind-address <ADDR>', 'where /healthz and /readyz are served', '127.0.0.1:8081')
    .addOption(
      durationOption('metrics-period', "how often tasks of auto-scaled services report what they use, and auto scaling takes a datapoint (default 1m, ECS's)"),
    )
    .action(async (options: LocalOptions) => {
      const { metricsPeriod, ...rest } = options;
      done(await actions.local({ ...rest, logLevel: parseLogLevel(options.logLevel), metricsPeriodMs: metricsPeriod }));
    });

  program
    .command('operator')
    .description(
      'The controllers against a Kubernetes API server (in-cluster config, --kubeconfig, $KUBECONFIG or ~/.kube/config). ' +
        'A leader that cannot renew for the renew deadline (an API server down that long) steps down and exits. ' +
        'The tasks of an instance whose agent stopped reporting are stopped (and their services replace them elsewhere) once it has been silent for --disconnected-instance-grace.',
    )
    .option('--kubeconfig <FILE>', 'the kubeconfig to use')
    .option('--namespace <NS>', 'watch one namespace only (default: all)')
    .option('--leader-elect', 'elect a leader among the replicas (a Lease)', false)
    .option('--leader-election-namespace <NS>', "the Lease's namespace")
    .addOption(durationOption('leader-elect-lease-duration', 'how long a leadership holds without renewal (default 15s)'))
    .addOption(durationOption('leader-elect-renew-deadline', 'how long the leader tries to renew before it steps down (default 10s)'))
    .addOption(durationOption('leader-elect-retry-period', 'how often candidates try (default 2s)'))
    .option('--metrics-bind-address <ADDR>', 'where Prometheus metrics are served', ':8080')
    .option('--health-probe-bind-address <ADDR>', 'where /healthz and /readyz are served', ':8081')
    .option('--webhook-bind-address <ADDR>', 'the validating admission webhook (0: off; :9443 in deploy/)', '0')
    .option('--webhook-service <NAME>', "the webhook's Service", 'berth-webhook')
    .option('--webhook-secret <NAME>', "the Secret holding the webhook's serving certificate", 'berth-webhook-tls')
    .option('--webhook-configuration <NAME>', 'the ValidatingWebhookConfiguration Berth keeps', 'berth-webhook')
    .addOption(durationOption('disconnected-instance-grace', "how long a silent agent's tasks wait before they are stopped (default 5m)"))
    .addOption(
      durationOption('metrics-period', "how often tasks of auto-scaled services report what they use, and auto scaling takes a datapoint (default 1m, ECS's)"),
    )
    .action(async (options: OperatorOptions) => {
      done(
        await actions.operator({
          kubeconfig: options.kubeconfig,
          namespace: options.namespace,
          leaderElect: options.leaderElect,
          leaderElectionNamespace: options.leaderElectionNamespace,
          leaseDurationMs: options.leaderElectLeaseDuration,
          renewDeadlineMs: options.leaderElectRenewDeadline,
          retryPeriodMs: options.leaderElectRetryPeriod,
          metricsBindAddress: options.metricsBindAddress,
          healthProbeBindAddress: options.healthProbeBindAddress,
          webhook: {
            bindAddress: options.webhookBindAddress,
            service: options.webhookService,
            secret: options.webhookSecret,
            configuration: options.webhookConfiguration,
          },
          disconnectedInstanceGraceMs: options.disconnectedInstanceGrace,
          metricsPeriodMs: options.metricsPeriod,
        }),
      );
    });

  program
    .command('agent')
    .description(
      "The agent of a self-managed host: registers this Docker engine (DOCKER_HOST or the default socket) as a ContainerInstance of the cluster's selfManaged node group " +
        '(named after the host unless --name), offering its CPUs x 1024 and its memory in MiB minus what is reserved for the host; renews its heartbeat Lease and runs the tasks placed on it. ' +
        'SIGTERM stops it and leaves the containers running; started again, it re-adopts them.',
    )
    .requiredOption('--cluster <NAME>', 'the Cluster the host registers to')
    .requiredOption('--node-group <NAME>', 'a selfManaged node group of the cluster')
    .option('-n, --namespace <NS>', "the Cluster's namespace (default: the kubeconfig context's)")
    .option('--kubeconfig <FILE>', 'the kubeconfig to use')
    .option('--name <INSTANCE>', "the ContainerInstance's name (default: the host name)")
    .option('--reserved-cpu <N>', 'CPU units kept for the host', '0')
    .option('--reserved-memory <MiB>', 'memory kept for the host', '0')
    .option('--attribute <k=v>', 'a custom attribute (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--availability-zone <Z>', 'the attribute ecs.availability-zone')
    .option('--instance-type <T>', 'the attribute ecs.instance-type')
    .addOption(durationOption('lease-duration', 'how long a heartbeat holds (default 40s)', wholeSeconds))
    .addOption(durationOption('lease-renew-interval', 'how often the heartbeat is renewed (default 10s)'))
    .addOption(
      durationOption('metrics-period', "how often tasks of auto-scaled services report what they use, and auto scaling takes a datapoint (default 1m, ECS's)"),
    )
    .option('--log-level <LEVEL>', 'logs on stderr: error, warn, info or debug', env.BERTH_LOG_LEVEL ?? 'info')
    .action(async (options: AgentOptions) => {
      done(await actions.agent(agentFlags(options)));
    });

  for (const change of ['drain', 'undrain'] as const) {
    program
      .command(`${change} <instance/NAME>`)
      .description(drainDescriptions[change])
      .option('-n, --namespace <NS>', "the instance's namespace (default: the kubeconfig context's)")
      .option('--kubeconfig <FILE>', 'the kubeconfig to use')
      .action(async (target: string, options: { namespace?: string; kubeconfig?: string }) => {
        done(await actions.drain(drainFlags(change, target, options)));
      });
  }

  program
    .command('rollout')
    .description('Rollouts of a service: `berth rollout status service/NAME`.')
    .command('status <service/NAME>')
    .description(
      "Follows the service's PRIMARY deployment with a progress bar (a line per change when not on a terminal) until its rollout is COMPLETED (exit 0) or FAILED (exit 1, with the circuit breaker's reason).",
    )
    .option('-n, --namespace <NS>', "the service's namespace (default: the kubeconfig context's)")
    .option('--kubeconfig <FILE>', 'the kubeconfig to use')
    .option('--context <NAME>', 'the kubeconfig context to use')
    .addOption(durationOption('timeout', 'give up (exit 1) after this long; default: wait as long as it takes'))
    .action(async (target: string, options: { namespace?: string; kubeconfig?: string; context?: string; timeout?: number }) => {
      done(await actions.rolloutStatus(rolloutStatusFlags(target, options)));
    });

  connectionOptions(program.command('describe <service/NAME>'), "the service's")
    .description(
      'A service as the ECS console shows it: its summary, deployments (PRIMARY and ACTIVE, with their rollout), tasks (recently stopped ones with their reason) and recent Events, newest last.',
    )
    .addOption(new Option('-o, --output <FORMAT>', 'print the Service object instead').choices(['yaml', 'json']))
    .addHelpText('after', '\nExample:\n  berth describe service/web -n shop')
    .action(async (target: string, options: ConnectionFlags & { output?: 'yaml' | 'json' }) => {
      done(await actions.describeService(describeServiceFlags(target, options)));
    });

  connectionOptions(program.command('logs <task/NAME>'), "the task's")
    .description(
      "A task's container log: a task run as a Pod through the API server (pods/log), a task on a Docker engine from that engine (DOCKER_HOST or the default socket).",
    )
    .option('-c, --container <NAME>', 'the container (required when the task has several)')
    .option('-f, --follow', 'keep printing new lines until the container stops (or Ctrl-C)', false)
    .option('--tail <N>', 'only the last N lines (-1: all)')
    .addHelpText('after', '\nExample:\n  berth logs task/web-5d2f1-0 -c web -f')
    .action(async (target: string, options: ConnectionFlags & { container?: string; follow: boolean; tail?: string }) => {
      done(await actions.logs(logsFlags(target, options)));
    });

  connectionOptions(program.command('run-task'), "the tasks'")
    .description(
      'ECS RunTask: creates standalone Tasks of a task definition revision (a bare FAMILY: its latest ACTIVE revision) in a cluster; the scheduler places them and they run until they exit or are stopped.',
    )
    .requiredOption('--task-definition <FAMILY[:REV]>', 'the task definition family, or one revision of it')
    .requiredOption('--cluster <NAME>', 'the Cluster the tasks run in')
    .option('--count <N>', 'how many tasks, 1 to 10', '1')
    .addOption(new Option('--launch-type <TYPE>', 'EC2 (node groups) or FARGATE').choices(['EC2', 'FARGATE']))
    .option(
      '--capacity-provider-strategy <ITEM>',
      'capacityProvider=NAME[,weight=N][,base=N] (repeatable; exclusive with --launch-type)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--overrides <JSON>', 'ECS overrides, e.g. \'{"containerOverrides":[{"name":"main","command":["echo","hi"]}]}\'')
    .option('--group <G>', 'the task group (default family:FAMILY)')
    .option('--started-by <S>', 'who started the tasks')
    .addOption(new Option('-o, --output <FORMAT>', 'print the created Tasks (or their names) instead').choices(['yaml', 'json', 'name']))
    .addHelpText('after', '\nExample:\n  berth run-task --task-definition job:3 --cluster demo --count 2')
    .action(async (options: RunTaskOptions) => {
      done(await actions.runTask(runTaskFlags(options)));
    });

  connectionOptions(program.command('stop-task <task/NAME>'), "the task's")
    .description('ECS StopTask: the task stops (SIGTERM, then SIGKILL after stopTimeout) and keeps the reason as its stoppedReason.')
    .option('--reason <TEXT>', 'the stoppedReason (default "Task stopped by user")')
    .addHelpText('after', '\nExample:\n  berth stop-task task/job-x7k2p --reason "maintenance"')
    .action(async (target: string, options: ConnectionFlags & { reason?: string }) => {
      done(await actions.stopTask(stopTaskFlags(target, options)));
    });

  program
    .command('import <FILE>')
    .description(
      'ECS JSON as Berth manifests: a task definition (as register-task-definition takes it, or exported), the output of `aws ecs describe-task-definition` ' +
        'or of `aws ecs describe-services` (FILE, or - for stdin). Manifests on stdout (the task role as a ServiceAccount for EKS IRSA); on stderr a line per ' +
        'field that was mapped, left out (with the reason) or is output-only. Exit 1, with the fields, when the input cannot become valid manifests.',
    )
    .option('-n, --namespace <NS>', 'metadata.namespace of every manifest (default: none, so kubectl apply decides)')
    .option('--cluster <NAME>', 'the Berth Cluster of imported services (default: the cluster of their clusterArn)')
    .addOption(new Option('-o, --output <FORMAT>', 'yaml documents, or json (a v1 List)').choices(['yaml', 'json']).default('yaml'))
    .action(async (file: string, options: Omit<ImportFlags, 'file'>) => {
      done(await actions.importEcs({ file, ...options }));
    });

  program
    .command('version')
    .description('the version of berth')
    .action(() => {
      output.out(`berth ${version}\n`);
    });
  return program;
}

const drainDescriptions: Record<InstanceStatusChange, string> = {
  drain: 'No new tasks land on the instance; its service tasks move elsewhere within their deployment limits; standalone tasks finish (spec.status DRAINING).',
  undrain: 'The instance takes tasks again (spec.status ACTIVE).',
};

/** -n, --kubeconfig and --context, as kubectl and rollout status take them. */
function connectionOptions(command: Command, whose: string): Command {
  return command
    .option('-n, --namespace <NS>', `${whose} namespace (default: the kubeconfig context's)`)
    .option('--kubeconfig <FILE>', 'the kubeconfig to use')
    .option('--context <NAME>', 'the kubeconfig context to use');
}

/** A flag of a duration (`15s`, `1m30s`), in milliseconds once parsed; a bad one is refused by its name. */
function durationOption(flag: string, description: string, check: (flag: string, value: string, ms: number) => void = () => {}): Option {
  return new Option(`--${flag} <D>`, description).argParser((value: string) => {
    const ms = parseDuration(flag, value);
    check(flag, value, ms);
    return ms;
  });
}

/** A Lease holds whole seconds: e.g. 3s is fine, 1500ms is refused. */
function wholeSeconds(flag: string, value: string, ms: number): void {
  if (ms % 1000 !== 0) throw new Error(`--${flag}: "${value}" is not a whole number of seconds`);
}

/** What commander parses each command's flags to, by attribute name (`--log-level` → `logLevel`). */
interface LocalOptions {
  dir?: string;
  provider?: 'simulated';
  once: boolean;
  logLevel: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  metricsPeriod?: number;
}

interface OperatorOptions {
  kubeconfig?: string;
  namespace?: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectLeaseDuration?: number;
  leaderElectRenewDeadline?: number;
  leaderElectRetryPeriod?: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  webhookBindAddress: string;
  webhookService: string;
  webhookSecret: string;
  webhookConfiguration: string;
  disconnectedInstanceGrace?: number;
  metricsPeriod?: number;
}
