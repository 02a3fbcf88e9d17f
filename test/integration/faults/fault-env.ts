// What the fault-injection suites share: built `berth operator` processes (each ended by its own pid),
// a namespace of their own with everything in it released and removed at the end (finalizers held by an
// operator that is no longer there, Docker containers and volumes labelled with the namespace), and reads
// of the Service and the Lease through the project's KubeStore.
import { KubeConfig } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import { clusters, services as serviceType, taskDefinitions, type Service, type TaskDefinition } from '../../../src/api';
import { taskLabels } from '../../../src/agent/task-runtime';
import { controllerRevisions, leases } from '../../../src/store/builtin-types';
import { KubeStore } from '../../../src/store/kube/kube-store';
import type { KubeObject } from '../../../src/store/object-store';
import type { Lease } from '../../../src/runtime/leader-election';
import { kubectl, kubectlOk, testEnv, type TestEnv } from '../../env/env';
import { CliProcess, dockerClient, requireBuiltCli, runSuffix, waitFor } from '../process/cli-process';
import type { TaskLedger } from './task-ledger';

export { taskLabels };

export interface FaultEnv {
  namespace: string;
  store: KubeStore;
  docker: Dockerode;
  /** Every operator process started, in order. */
  operators: CliProcess[];
  /**
   * `metricsBindAddress` defaults to off (`0`); `env` adds to the process's environment (e.g. BERTH_LOG_LEVEL);
   * `leaseTimings`: the --leader-elect-* durations (e.g. '60s'), leader-election.ts's defaults when absent;
   * `dockerHost`: the engine of the operator's `provider: local` instances, when not the shared one.
   */
  startOperator(options?: {
    leaderElect?: boolean;
    leaseTimings?: { leaseDuration: string; renewDeadline: string; retryPeriod: string };
    metricsBindAddress?: string;
    env?: NodeJS.ProcessEnv;
    dockerHost?: string;
  }): CliProcess;
  service(name: string): Promise<Service | undefined>;
  /** Patches one environment value of the first container: every change registers a new revision. */
  setEnvironment(taskDefinition: string, value: string): Promise<void>;
  lease(): Promise<Lease | undefined>;
  /** Every Berth container of the namespace on the engine, running or not. */
  containers(): Promise<Dockerode.ContainerInfo[]>;
  /** Ends every operator (SIGTERM, then SIGKILL, by pid), releases what they held and removes the namespace and its containers. */
  teardown(): Promise<void>;
}

/** `env`: the shared test environment, or one the suite started itself (test/env/private-env.ts). */
export async function startFaultEnv(prefix: string, env: TestEnv = testEnv()): Promise<FaultEnv> {
  requireBuiltCli();
  const namespace = `${prefix}-${runSuffix()}`;
  const config = new KubeConfig();
  config.loadFromFile(env.kubeconfig);
  const store = new KubeStore(config);
  const docker = dockerClient();
  const operators: CliProcess[] = [];
  await kubectlOk(['create', 'namespace', namespace], undefined, env);

  const containers = () => docker.listContainers({ all: true, filters: { label: [`${taskLabels.namespace}=${namespace}`] } });

  return {
    namespace,
    store,
    docker,
    operators,
    startOperator: (options = {}) => {
      const operator = new CliProcess(
        [
          'operator',
          '--kubeconfig',
          env.kubeconfig,
          '--namespace',
          namespace,
          '--metrics-bind-address',
          options.metricsBindAddress ?? '0',
          '--health-probe-bind-address',
          '0',
          ...(options.leaderElect ? ['--leader-elect', '--leader-election-namespace', namespace] : []),
          ...(options.leaseTimings
            ? [
                ...['--leader-elect-lease-duration', options.leaseTimings.leaseDuration],
                ...['--leader-elect-renew-deadline', options.leaseTimings.renewDeadline],
                ...['--leader-elect-retry-period', options.leaseTimings.retryPeriod],
              ]
            : []),
        ],
        { ...options.env, ...(options.dockerHost === undefined ? {} : { DOCKER_HOST: options.dockerHost }) },
      );
      operators.push(operator);
      return operator;
    },
    service: (name) => store.get<Service>(serviceType, namespace, name),
    setEnvironment: async (taskDefinition, value) => {
      const current = await store.get<TaskDefinition>(taskDefinitions, namespace, taskDefinition);
      if (!current) throw new Error(`TaskDefinition ${taskDefinition} not found`);
      const [first, ...rest] = current.spec.containerDefinitions;
      const environment = (first.environment ?? []).map((e, i) => (i === 0 ? { ...e, value } : e));
      // A merge patch of the spec alone: the operator writes the object's finalizers and status meanwhile.
      await store.patch(taskDefinitions, namespace, taskDefinition, { spec: { containerDefinitions: [{ ...first, environment }, ...rest] } });
    },
    lease: () => store.get<Lease>(leases, namespace, 'berth-operator'),
    containers,
    teardown: async () => {
      for (const operator of operators) await operator.end();
      // No operator runs any more: release the finalizers it would have released, then let the namespace go.
      // Revisions by update: the API server refuses a patch that re-encodes a revision's immutable data.
      for (const type of [clusters, taskDefinitions, serviceType, controllerRevisions]) {
        const { items } = await store.list<KubeObject>(type, namespace);
        for (const object of items.filter((o) => (o.metadata.finalizers ?? []).length > 0)) {
          await store.update(type, { ...object, metadata: { ...object.metadata, finalizers: [] } }).catch(() => undefined);
        }
      }
      await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'], undefined, env);
      for (const info of await containers()) {
        await docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      }
      const { Volumes: volumes } = await docker.listVolumes({ filters: { label: [`${taskLabels.namespace}=${namespace}`] } });
      for (const volume of volumes ?? []) {
        await docker
          .getVolume(volume.Name)
          .remove()
          .catch(() => undefined);
      }
    },
  };
}

/** The Service is steady on `revision`: its PRIMARY deployment of it COMPLETED, no other deployment left, `desiredCount` running, Ready. */
export function steadyOn(service: Service | undefined, revision: string, desiredCount: number): boolean {
  const status = service?.status;
  if (!service || !status) return false;
  const primary = status.deployments?.find((d) => d.status === 'PRIMARY');
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return (
    primary?.taskDefinition === revision &&
    primary.rolloutState === 'COMPLETED' &&
    (status.deployments ?? []).every((d) => d === primary || d.status === 'INACTIVE') &&
    status.taskDefinition === revision &&
    status.runningCount === desiredCount &&
    status.observedGeneration === service.metadata.generation &&
    ready?.status === 'True' &&
    ready.observedGeneration === service.metadata.generation
  );
}

/** One line about a Service's status, for failure messages. */
export function describeService(service: Service | undefined): string {
  const status = service?.status;
  if (!status) return 'service: no status';
  const deployments = (status.deployments ?? []).map((d) => `${d.status} ${d.taskDefinition} ${d.rolloutState} running=${d.runningCount} id=${d.id}`);
  return `service: ${status.taskDefinition} running=${status.runningCount} pending=${status.pendingCount} [${deployments.join('; ')}]`;
}

/**
 * Waits until the ledger shows exactly `desiredCount` live tasks, every one of `revision`, wanted RUNNING and
 * RUNNING, and the Service `web` is steady on `revision` (steadyOn).
 */
export async function waitSteady(
  env: FaultEnv,
  ledger: TaskLedger,
  { revision, desiredCount, timeoutMs }: { revision: string; desiredCount: number; timeoutMs: number },
  detail: () => string,
): Promise<void> {
  await waitFor(
    async () => {
      const live = ledger.live();
      const settled =
        live.length === desiredCount &&
        live.every((t) => t.spec.taskDefinition === revision && t.spec.desiredStatus === 'RUNNING' && t.status?.lastStatus === 'RUNNING');
      return settled && steadyOn(await env.service('web'), revision, desiredCount);
    },
    `the service to be steady on ${revision} with ${desiredCount} RUNNING tasks`,
    timeoutMs,
    async () => `${describeService(await env.service('web'))}\n${ledger.summary()}\n${detail()}`,
    200,
  );
}

/** A Cluster of one managed `provider: local` instance (4096 CPU / 4096 MiB) on the operator's Docker engine. */
export function localClusterManifest(name: string): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: local
      instanceType: { cpu: 4096, memory: 4096 }
      scaling: { minSize: 1, desiredSize: 1, maxSize: 1 }
---`;
}

/** The Service `web` of the TaskDefinition `web` in `cluster`, under `limits`. */
export function webServiceManifest(cluster: string, desiredCount: number, limits: { minimumHealthyPercent: number; maximumPercent: number }): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: ${cluster}
  taskDefinition: web
  desiredCount: ${desiredCount}
  deploymentConfiguration:
    minimumHealthyPercent: ${limits.minimumHealthyPercent}
    maximumPercent: ${limits.maximumPercent}
`;
}

/**
 * A managed group of `instances` simulated instances (4096 CPU / 8192 MiB: 16 tasks of 256 / 512 each)
 * and one Service of `desiredCount` simulated tasks under `limits`; a rollout changes ROUND.
 */
export function simulatedRolloutManifests({
  instances,
  desiredCount,
  limits,
}: {
  instances: number;
  desiredCount: number;
  limits: { minimumHealthyPercent: number; maximumPercent: number };
}): string {
  return `
apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: sim
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: simulated
      instanceType: { cpu: 4096, memory: 8192 }
      scaling: { minSize: ${instances}, desiredSize: ${instances}, maxSize: ${instances} }
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: berth-test/simulated:latest
      essential: true
      cpu: 256
      memory: 512
      environment:
        - name: ROUND
          value: "0"
---
${webServiceManifest('sim', desiredCount, limits)}`;
}
