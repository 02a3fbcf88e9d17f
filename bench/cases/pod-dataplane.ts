/**
 * pods: the Pod data plane at scale, against kube-scheduler in the same run on the same Nodes.
 *
 * 1,000 kwok Nodes (Pods on them go Running without containers; three zones, 16 vCPU / 64 GiB each,
 * tainted), mirrored by a node group of Nodes. Berth: 10,000 tasks in 20 REPLICA services placed with
 * spread(attribute:ecs.availability-zone) then binpack(memory), each task a Pod Berth binds; timed from
 * applying the services until every task is RUNNING (its Pod Running, as the agents observe it).
 * Baseline: kube-scheduler, built from the same module as the API server, with its defaults, scheduling
 * 10,000 plain Pods with the same requests and toleration onto the same Nodes, created by a plain loop at
 * concurrency 16; timed from the first create until every Pod is Running. The baseline runs first, and its
 * namespace is gone before Berth starts, so the two never share the Nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as https from 'node:https';
import * as path from 'node:path';
import { clusters, containerInstances, services as serviceType, taskDefinitions, tasks as taskType, type ContainerInstance, type Task } from '../../src/api';
import { Manager } from '../../src/runtime/manager';
import { silentLogger } from '../../src/runtime/logger';
import { nodes as nodeType, pods as podType } from '../../src/store/builtin-types';
import type { KubeObject, ObjectStore } from '../../src/store/object-store';
import type { BenchCase, CaseContext } from '../support/bench-case';
import { createNamespace, deleteNamespace, kubeEnvironment, namespaceName } from '../support/environment';
import { controlPlaneFor, isConnected, isRunning } from '../support/fleet';
import { breakdown, totalOf } from '../support/counting-store';
import { PredicateCount } from '../support/informer-counts';
import { forEachConcurrently } from '../support/pool';
import { log, round } from '../support/report';

const fullNodes = 1_000;
const fullTasks = 10_000;
const serviceCount = 20;
const zones = ['zone-a', 'zone-b', 'zone-c'];
const taint = { key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' };
/** One task: 256 CPU units (250m), 512 MiB. */
const task = { cpu: 256, memory: 512 };
const createConcurrency = 16;
/** kube-scheduler's health port while it runs (loopback only). */
const schedulerPort = 16261;

type Phase = { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

export const podDataPlane: BenchCase = {
  name: 'pods',
  timeoutMs: 75 * 60_000,
  run: async (context) => {
    const environment = await kubeEnvironment();
    const client = environment.newStore();
    const nodeCount = Math.max(3, Math.round(fullNodes * context.scale));
    const taskCount = serviceCount * Math.max(1, Math.round((fullTasks / serviceCount) * context.scale));
    const run = namespaceName('pods');
    const label = { 'berth-bench-run': run };

    // A watcher of our own for Node readiness and Pod phases (the control planes have their own caches).
    const watcher = new Manager({ store: environment.newStore(), logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
    const readyNodes = new PredicateCount(
      watcher.informerFor<KubeObject & Phase>(nodeType),
      (n) => n.metadata.labels?.['berth-bench-run'] === run && isReady(n),
    );
    const runningPods = new PredicateCount(
      watcher.informerFor<KubeObject & Phase>(podType),
      (p) => p.metadata.namespace?.startsWith(run) === true && p.status?.phase === 'Running',
    );
    const watching = watcher.start();
    context.defer(async () => {
      await watcher.stop();
      await watching;
    });

    log(`pods: ${nodeCount} kwok Nodes`);
    context.defer(() => deleteNodes(client, run));
    const nodesStarted = performance.now();
    await forEachConcurrently([...Array(nodeCount).keys()], createConcurrency, context.signal, async (i) => {
      await client.create(nodeType, fakeNode(`${run}-${i}`, zones[i % zones.length], label));
    });
    await readyNodes.reaches(nodeCount, context.signal);
    const nodesReadyS = round((performance.now() - nodesStarted) / 1000);
    context.note({ nodes: nodeCount, nodesReadyS });

    // Baseline: kube-scheduler and plain Pods.
    const baselineNs = `${run}-kube`;
    await createNamespace(client, baselineNs);
    context.owns({ namespace: baselineNs, on: 'kube-apiserver' });
    const scheduler = startScheduler(path.dirname(environment.env.kubectl), environment.env.kubeconfig);
    context.defer(() => stopProcess(scheduler));
    await waitHealthy(context);
    log(`pods: baseline, ${taskCount} Pods through kube-scheduler`);
    const baselineStarted = performance.now();
    await forEachConcurrently([...Array(taskCount).keys()], createConcurrency, context.signal, async (i) => {
      await client.create(podType, plainPod(baselineNs, `pod-${i}`, label));
    });
    await runningPods.reaches(taskCount, context.signal);
    const baselineMs = performance.now() - baselineStarted;
    context.note({ kubeSchedulerS: round(baselineMs / 1000) });
    await stopProcess(scheduler);
    await deleteNamespace(client, baselineNs);
    await runningPods.reaches(0, context.signal);

    // Berth: a node group of the same Nodes, and the services.
    const namespace = `${run}-berth`;
    await createNamespace(client, namespace);
    context.owns({ namespace, on: 'kube-apiserver' });
    context.defer(() => deleteNamespace(client, namespace));
    const plane = controlPlaneFor(context, environment.newStore(), namespace, { nodes: true });
    const connected = new PredicateCount(plane.manager.informerFor<ContainerInstance>(containerInstances, namespace), isConnected);
    await client.create(clusters, clusterManifest(namespace, label));
    await connected.reaches(nodeCount, context.signal);
    connected.stop();
    log(`pods: Berth, ${taskCount} tasks in ${serviceCount} services on ${nodeCount} mirrored Nodes`);
    const taskInformer = plane.manager.informerFor<Task>(taskType, namespace);
    const running = new PredicateCount(taskInformer, isRunning);
    // Each stage of the pipeline, so that a slow run shows where tasks wait: placement, the agents' Pods, kwok, the agents' reports.
    const bound = new PredicateCount(taskInformer, (t) => t.spec.containerInstance !== undefined);
    const podsMade = new PredicateCount(watcher.informerFor<KubeObject & Phase>(podType), (p) => p.metadata.namespace === namespace);
    const progress = setInterval(
      () => log(`  ${bound.count} bound, ${podsMade.count} Pods, ${runningPods.count} Pods Running, ${running.count}/${taskCount} tasks RUNNING`),
      10_000,
    );
    plane.store.takeCounts();
    const berthStarted = performance.now();
    try {
      await client.create(taskDefinitions, taskDefinitionManifest(namespace));
      for (let i = 0; i < serviceCount; i++) await client.create(serviceType, serviceManifest(namespace, `svc-${i}`, taskCount / serviceCount));
      await running.reaches(taskCount, context.signal);
    } finally {
      clearInterval(progress);
      for (const count of [running, bound, podsMade]) count.stop();
    }
    const berthMs = performance.now() - berthStarted;
    const writes = plane.store.takeCounts();
    return [
      {
        case: 'pods',
        value: round(berthMs / 1000),
        unit: 's',
        baseline: round(baselineMs / 1000),
        baselineIs: `kube-scheduler (its defaults) scheduling ${taskCount} plain Pods of the same requests onto the same ${nodeCount} kwok Nodes, created at concurrency ${createConcurrency}`,
        target: { ratio: { op: '<=', limit: 1 } },
        details: {
          nodes: nodeCount,
          tasks: taskCount,
          services: serviceCount,
          nodesReadyS,
          strategy: 'spread(zone), binpack(memory)',
          writesPerTask: round(totalOf(writes).writes / taskCount, 2),
          writes: breakdown(writes),
        },
      },
    ];
  },
};

function isReady(node: Phase): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

function fakeNode(name: string, zone: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        ...labels,
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': zone,
      },
    },
    spec: { taints: [taint] },
    status: { capacity: { cpu: '16', memory: '64Gi', pods: '110' }, allocatable: { cpu: '16', memory: '64Gi', pods: '110' } },
  } as KubeObject;
}

function plainPod(namespace: string, name: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels: { app: 'baseline' } },
    spec: {
      nodeSelector: labels,
      tolerations: [{ key: taint.key, operator: 'Exists', effect: taint.effect }],
      containers: [{ name: 'app', image: 'fake:latest', resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '512Mi' } } }],
    },
  } as KubeObject;
}

function clusterManifest(namespace: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { namespace, name: 'bench' },
    spec: {
      nodeGroups: [
        {
          name: 'kwok',
          type: 'selfManaged',
          nodes: { selector: { matchLabels: labels }, tolerations: [{ key: taint.key, operator: 'Exists', effect: taint.effect }] },
        },
      ],
    },
  } as KubeObject;
}

function taskDefinitionManifest(namespace: string): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: { namespace, name: 'app' },
    spec: { containerDefinitions: [{ name: 'app', image: 'fake:latest', essential: true, cpu: task.cpu, memory: task.memory }] },
  } as KubeObject;
}

function serviceManifest(namespace: string, name: string, desiredCount: number): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: {
      cluster: 'bench',
      taskDefinition: 'app',
      desiredCount,
      placementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'binpack', field: 'memory' },
      ],
    },
  } as KubeObject;
}

function startScheduler(binDir: string, kubeconfig: string): ChildProcess {
  return spawn(
    path.join(binDir, 'kube-scheduler'),
    [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${schedulerPort}`, '--v=0'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
}

async function waitHealthy(context: CaseContext): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    context.signal.throwIfAborted();
    const ok = await new Promise<boolean>((resolve) => {
      // Its serving certificate is self-signed: only the answer matters here.
      https
        .get({ host: '127.0.0.1', port: schedulerPort, path: '/healthz', rejectUnauthorized: false, timeout: 2000 }, (response) => {
          response.resume();
          resolve(response.statusCode === 200);
        })
        .on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('kube-scheduler did not become healthy within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function deleteNodes(store: ObjectStore, run: string): Promise<void> {
  const { items } = await store.list(nodeType, undefined, { labelSelector: `berth-bench-run=${run}` });
  await Promise.all(items.map((node) => store.delete(nodeType, undefined, node.metadata.name).catch(() => undefined)));
}
