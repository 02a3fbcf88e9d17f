// Two Berths on one Docker engine (another operator, another test run), with the very same namespace,
// cluster, instance, service and task names: each runs its own containers and its orphan sweep never
// touches the other's. Each Berth is the whole control plane on its own embedded store.
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import { clusters, services, taskDefinitions, validatorFor, type Service } from '../../../src/api';
import { AgentHost } from '../../../src/agent/agent-host';
import { inProcessInstanceProviders } from '../../../src/agent/instance-providers';
import { taskLabels } from '../../../src/agent/task-runtime';
import { addControllers } from '../../../src/controllers';
import { eventually } from '../../../src/runtime/eventually';
import { Manager } from '../../../src/runtime/manager';
import { MemoryStore } from '../../../src/store/memory/memory-store';
import type { KubeObject } from '../../../src/store/object-store';
import { captureLogText } from '../../support/berth-harness';
import { dockerSocketPath, testEnv } from '../../env/env';

const env = testEnv();
const docker = new Dockerode({ socketPath: dockerSocketPath(env) });
const namespace = `shared-engine-${randomUUID().slice(0, 6)}`;
const nsFilter = { label: [`${taskLabels.namespace}=${namespace}`] };

interface Berth {
  store: MemoryStore;
  manager: Manager;
  host: AgentHost;
  running: Promise<void>;
  logs: ReturnType<typeof captureLogText>;
}

async function startBerth(): Promise<Berth> {
  const store = new MemoryStore({ validatorFor });
  const logs = captureLogText('debug');
  const manager = new Manager({ store, logger: logs.logger, metricsServer: false, healthServer: false });
  const host = new AgentHost({ manager, sweepIntervalMs: 200 });
  addControllers(manager, { instanceProviders: inProcessInstanceProviders(host, { docker, logger: logs.logger }) });
  const running = manager.start();
  const manifests: [typeof clusters, KubeObject][] = [
    [
      clusters,
      {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Cluster',
        metadata: { name: 'demo', namespace },
        spec: {
          nodeGroups: [
            {
              name: 'general',
              type: 'managed',
              provider: 'local',
              instanceType: { cpu: 1024, memory: 1024 },
              scaling: { minSize: 0, maxSize: 1, desiredSize: 1 },
            },
          ],
        },
      } as KubeObject,
    ],
    [
      taskDefinitions,
      {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'TaskDefinition',
        metadata: { name: 'sleeper', namespace },
        spec: { containerDefinitions: [{ name: 'main', image: env.testImage, memory: 32, command: ['sh', '-c', 'exec sleep 600'], stopTimeout: 1 }] },
      } as KubeObject,
    ],
    [
      services,
      {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'web', namespace },
        spec: { cluster: 'demo', taskDefinition: 'sleeper', desiredCount: 1 },
      } as KubeObject,
    ],
  ];
  for (const [type, object] of manifests) await store.create(type, object);
  return { store, manager, host, running, logs };
}

async function stopBerth(berth: Berth): Promise<void> {
  await berth.host.stop({ removeContainers: true });
  await berth.manager.stop();
  await berth.running;
}

const sweeps = (berth: Berth) => berth.logs.text().split('orphan sweep done').length - 1;
const runningOf = async (berth: Berth) => ((await berth.store.get<Service>(services, namespace, 'web'))?.status?.runningCount ?? 0) === 1;

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: nsFilter })) await docker.getContainer(c.Id).remove({ force: true, v: true });
});

test('two Berths with the same names share an engine; neither sweeps away the other’s containers', async () => {
  const first = await startBerth();
  const second = await startBerth();
  try {
    await eventually(async () => (await runningOf(first)) && (await runningOf(second)), 'one RUNNING task in each Berth', { timeoutMs: 60_000 });
    const containers = await docker.listContainers({ filters: nsFilter });
    expect(containers).toHaveLength(2);
    // The same instance name in the same namespace: only the instance's uid tells the two scopes apart.
    const scopes = containers.map((c) => c.Labels[taskLabels.containerInstance]);
    expect(new Set(scopes.map((s) => s.split('.').slice(0, 2).join('.')))).toEqual(new Set([`${namespace}.demo-general-0`]));
    expect(new Set(scopes).size).toBe(2);

    // Several sweeps of each, each seeing only its own instance's containers.
    const [a, b] = [sweeps(first), sweeps(second)];
    await eventually(() => sweeps(first) >= a + 3 && sweeps(second) >= b + 3, 'three more sweeps of each Berth');
    const after = await docker.listContainers({ filters: nsFilter });
    expect(after.map((c) => c.Id).sort()).toEqual(containers.map((c) => c.Id).sort());
    expect(first.logs.text()).not.toContain('removing orphaned containers');
    expect(second.logs.text()).not.toContain('removing orphaned containers');
  } finally {
    await stopBerth(first);
    await stopBerth(second);
  }
  expect(await docker.listContainers({ all: true, filters: nsFilter })).toEqual([]);
});
