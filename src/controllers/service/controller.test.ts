import { clusters, services, taskDefinitions, tasks as taskType, validatorFor, type Service, type Task } from '../../api';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { eventually } from '../../runtime/eventually';
import { clusterManifest, startControlPlane, type ControlPlane } from '../../testing/control-plane';

/**
 * The whole control plane on the embedded store, with simulated instances: a service converges,
 * rolls out a new revision within its bounds, replaces a crashed task, and stops its tasks on delete.
 */

const ns = 'shop';
jest.setTimeout(30_000);

function taskDefinition(image: string): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: { name: 'web', namespace: ns },
    spec: { containerDefinitions: [{ name: 'web', image, memory: 256, portMappings: [{ containerPort: 80 }] }] },
  } as KubeObject;
}

describe('service controller with simulated instances', () => {
  let store: MemoryStore;
  let plane: ControlPlane;

  beforeEach(async () => {
    store = new MemoryStore({ validatorFor });
    plane = startControlPlane(store, { agents: { statusReportIntervalMs: 200, sweepIntervalMs: 500 } });
    await store.create(clusters, clusterManifest(ns, { instances: 2, cpu: 2048, memory: 1024 }));
    await store.create(taskDefinitions, taskDefinition('web:1'));
  });

  afterEach(() => plane.stop());

  const serviceTasks = async () => (await store.list<Task>(taskType, ns, { labelSelector: 'berth.dev/service=web' })).items;
  const live = async () => (await serviceTasks()).filter((t) => t.status?.lastStatus !== 'STOPPED');
  const service = async () => (await store.get<Service>(services, ns, 'web'))!;

  async function createService(desiredCount: number, minimumHealthyPercent: number, maximumPercent: number): Promise<void> {
    await store.create(services, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'web', desiredCount, deploymentConfiguration: { minimumHealthyPercent, maximumPercent } },
    } as KubeObject);
  }

  test('converges to the desired count of RUNNING tasks spread over the instances', async () => {
    await createService(3, 100, 200);
    await eventually(async () => (await service()).status?.runningCount === 3, '3 running');
    const placed = (await live()).map((t) => t.spec.containerInstance);
    expect(placed).toHaveLength(3);
    expect(new Set(placed).size).toBeGreaterThanOrEqual(1);
    const status = (await service()).status!;
    expect(status).toMatchObject({ desiredCount: 3, pendingCount: 0, taskDefinition: 'web:1' });
    await eventually(async () => (await service()).status?.deployments?.[0]?.rolloutState === 'COMPLETED', 'COMPLETED');
  });

  test('a new revision rolls out within min 50 / max 100 and completes', async () => {
    await createService(4, 50, 100);
    await eventually(async () => (await service()).status?.runningCount === 4, '4 running');
    const samples: { live: number; healthy: number }[] = [];
    const sampler = setInterval(() => {
      void live().then((tasks) =>
        samples.push({ live: tasks.length, healthy: tasks.filter((t) => t.status?.lastStatus === 'RUNNING' && t.spec.desiredStatus !== 'STOPPED').length }),
      );
    }, 5);
    const current = (await store.get<KubeObject & { spec: { containerDefinitions: { image: string }[] } }>(taskDefinitions, ns, 'web'))!;
    await store.update(taskDefinitions, {
      ...current,
      spec: { containerDefinitions: [{ ...current.spec.containerDefinitions[0], image: 'web:2' }] },
    } as KubeObject);
    await eventually(async () => {
      const s = (await service()).status;
      return s?.taskDefinition === 'web:2' && s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && s.runningCount === 4;
    }, 'rollout of web:2');
    clearInterval(sampler);
    expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
    expect(Math.min(...samples.map((s) => s.healthy))).toBeGreaterThanOrEqual(2);
    expect((await live()).every((t) => t.spec.taskDefinition === 'web:2')).toBe(true);
  });

  test('a task whose essential container exits is replaced', async () => {
    await createService(2, 100, 200);
    await eventually(async () => (await service()).status?.runningCount === 2, '2 running');
    const [victim] = await live();
    await store.patch(taskType, ns, victim.metadata.name, { spec: { desiredStatus: 'STOPPED' } });
    await eventually(async () => (await store.get<Task>(taskType, ns, victim.metadata.name))?.status?.lastStatus === 'STOPPED', 'victim STOPPED');
    await eventually(async () => {
      const tasks = await live();
      return tasks.length === 2 && tasks.every((t) => t.status?.lastStatus === 'RUNNING') && !tasks.some((t) => t.metadata.name === victim.metadata.name);
    }, 'a replacement');
  });

  test('deleting the service stops its tasks, then the Service goes', async () => {
    await createService(2, 100, 200);
    await eventually(async () => (await service()).status?.runningCount === 2, '2 running');
    await store.delete(services, ns, 'web');
    await eventually(async () => (await store.get(services, ns, 'web')) === undefined || undefined, 'the service to go');
    expect(await serviceTasks()).toEqual([]);
  });
});
