import { clusters, containerInstances, services, tasks, validatorFor, type Cluster, type ContainerInstance, type Task } from '../../api';
import { Manager } from '../../runtime/manager';
import { silentLogger } from '../../runtime/logger';
import { controllerRevisions, events } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { addClusterController, clusterFinalizer } from './controller';
import type { InstanceProvider, InstanceProviders } from '../../ecs/instance-provider';
import { eventually } from '../../runtime/eventually';

const ns = 'team-a';

/** Stands in for the hosts: which instances have a running agent. */
class FakeHosts implements InstanceProvider {
  readonly running = new Set<string>();
  launch(instance: ContainerInstance): Promise<void> {
    this.running.add(instance.metadata.name);
    return Promise.resolve();
  }
  terminate(instanceName: string): Promise<void> {
    this.running.delete(instanceName);
    return Promise.resolve();
  }
}

function clusterManifest(nodeGroups: unknown[]): Cluster {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'demo', namespace: ns }, spec: { nodeGroups } } as Cluster;
}

const general = (desiredSize: number, extra: Record<string, unknown> = {}) => ({
  name: 'general',
  type: 'managed',
  instanceType: { cpu: 2048, memory: 4096 },
  scaling: { minSize: 0, maxSize: 5, desiredSize },
  availabilityZones: ['zone-a', 'zone-b'],
  ...extra,
});

describe('Cluster controller (embedded store)', () => {
  let store: MemoryStore;
  let hosts: FakeHosts;
  let simulatedHosts: FakeHosts;
  let manager: Manager;
  let running: Promise<void>;

  function startManager(): void {
    hosts = new FakeHosts();
    simulatedHosts = new FakeHosts();
    const providers: InstanceProviders = { local: hosts, simulated: simulatedHosts };
    manager = new Manager({ store, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
    addClusterController(manager, undefined, providers, { taskCountsReportIntervalMs: 50 });
    running = manager.start();
  }

  async function stopManager(): Promise<void> {
    await manager.stop();
    await running;
  }

  beforeEach(() => {
    store = new MemoryStore({ validatorFor });
    startManager();
  });

  afterEach(stopManager);

  const instances = async () => (await store.list<ContainerInstance>(containerInstances, ns)).items;
  const instanceNames = async () => (await instances()).map((instance) => instance.metadata.name).sort();
  const clusterNow = async () => store.get<Cluster>(clusters, ns, 'demo');
  const ready = async () => (await clusterNow())?.status?.conditions?.find((condition) => condition.type === 'Ready');
  const eventMessages = async () => (await store.list<KubeObject & { message: string }>(events, ns)).items.map((event) => event.message);

  async function setDesiredSize(size: number, extra: Record<string, unknown> = {}): Promise<void> {
    const cluster = (await clusterNow())!;
    await store.update(clusters, { ...cluster, spec: { ...cluster.spec, nodeGroups: [general(size, extra)] } });
  }

  async function bindTask(name: string, instance: string, lastStatus: NonNullable<Task['status']>['lastStatus']): Promise<void> {
    await store.create(tasks, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name, namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: instance, group: 'service:web' },
    } as KubeObject);
    await setTaskStatus(name, lastStatus);
  }

  async function setTaskStatus(name: string, lastStatus: NonNullable<Task['status']>['lastStatus']): Promise<void> {
    await store.patch(tasks, ns, name, { status: { lastStatus } }, 'status');
  }

  test('launches desiredSize instances of a managed group, over the zones, and reports the cluster', async () => {
    await store.create(clusters, clusterManifest([general(2, { attributes: { tier: 'general' } }), { name: 'edge', type: 'selfManaged' }]));
    await eventually(async () => (await ready())?.status === 'True', 'Ready');

    const created = await instances();
    expect(created.map((instance) => [instance.metadata.name, instance.spec.attributes?.['ecs.availability-zone'], instance.spec.status])).toEqual([
      ['demo-general-0', 'zone-a', 'ACTIVE'],
      ['demo-general-1', 'zone-b', 'ACTIVE'],
    ]);
    expect(created[0].spec).toMatchObject({
      cluster: 'demo',
      nodeGroup: 'general',
      registeredResources: { cpu: 2048, memory: 4096 },
      attributes: {
        tier: 'general',
        'ecs.instance-type': '2048cpu-4096mb',
        'ecs.os-type': 'linux',
        'ecs.cpu-architecture': process.arch === 'arm64' ? 'arm64' : 'x86_64',
        'berth.dev/provider': 'local',
      },
    });
    expect([...hosts.running].sort()).toEqual(['demo-general-0', 'demo-general-1']);

    const cluster = (await clusterNow())!;
    expect(cluster.metadata.finalizers).toContain(clusterFinalizer);
    expect(cluster.status).toMatchObject({
      registeredContainerInstancesCount: 2,
      nodeGroups: [
        { name: 'general', desiredSize: 2, currentSize: 2 },
        { name: 'edge', currentSize: 0 },
      ],
      observedGeneration: cluster.metadata.generation,
    });
    expect(await eventMessages()).toEqual(
      expect.arrayContaining(['node group general: launched demo-general-0 to scale out', 'node group general: launched demo-general-1 to scale out']),
    );
  });

  test('counts the services and the running and pending tasks of the cluster', async () => {
    await store.create(clusters, clusterManifest([general(1)]));
    await eventually(async () => (await ready())?.status === 'True', 'Ready');
    await store.create(services, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'web', desiredCount: 3 },
    } as KubeObject);
    await bindTask('web-a', 'demo-general-0', 'RUNNING');
    await bindTask('web-b', 'demo-general-0', 'PENDING');
    await bindTask('web-c', 'demo-general-0', 'STOPPED');

    const status = await eventually(async () => {
      const current = (await clusterNow())?.status;
      return current?.runningTasksCount === 1 && current.pendingTasksCount === 1 && current.activeServicesCount === 1 && current;
    }, 'the counts');
    expect(status.registeredContainerInstancesCount).toBe(1);
  });

  test('scale-in drains the highest instance, keeps it while a task runs on it, then terminates it', async () => {
    await store.create(clusters, clusterManifest([general(2)]));
    await eventually(async () => (await ready())?.status === 'True', 'Ready');
    await bindTask('web-a', 'demo-general-0', 'RUNNING');
    await bindTask('web-b', 'demo-general-1', 'RUNNING');

    await setDesiredSize(1);
    const waiting = await eventually(async () => {
      const condition = await ready();
      return condition?.message.includes('demo-general-1 drains, 1 task still on it') && condition;
    }, 'a condition saying demo-general-1 waits for its task');
    expect(waiting).toMatchObject({ status: 'False', reason: 'Scaling' });
    expect((await store.get<ContainerInstance>(containerInstances, ns, 'demo-general-1'))?.spec.status).toBe('DRAINING');
    expect((await store.get<ContainerInstance>(containerInstances, ns, 'demo-general-0'))?.spec.status).toBe('ACTIVE');
    expect(hosts.running.has('demo-general-1')).toBe(true);

    await setTaskStatus('web-b', 'STOPPED');
    await eventually(async () => (await instanceNames()).join() === 'demo-general-0', 'demo-general-1 to go');
    await eventually(async () => !hosts.running.has('demo-general-1'), 'the host of demo-general-1 to stop');
    await eventually(async () => (await ready())?.status === 'True', 'Ready again');
    expect((await clusterNow())?.status?.nodeGroups).toEqual([{ name: 'general', desiredSize: 1, currentSize: 1 }]);
    expect(await eventMessages()).toEqual(
      expect.arrayContaining(['node group general: draining demo-general-1 to scale in', 'node group general: terminated demo-general-1']),
    );
  });

  test('without termination protection scale-in terminates a drained instance even with a task on it', async () => {
    await store.create(clusters, clusterManifest([general(2, { managedTerminationProtection: 'DISABLED' })]));
    await eventually(async () => (await instanceNames()).length === 2, 'two instances');
    await bindTask('web-a', 'demo-general-1', 'RUNNING');
    await setDesiredSize(1, { managedTerminationProtection: 'DISABLED' });
    // The empty demo-general-0 is the one to go, even though its index is lower.
    await eventually(async () => (await instanceNames()).join() === 'demo-general-1', 'demo-general-0 to go');
    await setDesiredSize(0, { managedTerminationProtection: 'DISABLED' });
    await eventually(async () => (await instanceNames()).length === 0, 'demo-general-1 to go, task and all');
    // The host goes once the controller has seen its instance go.
    await eventually(() => hosts.running.size === 0, 'its host terminated');
  });

  test('a scale-in undone before the instance left turns it ACTIVE again instead of launching another', async () => {
    await store.create(clusters, clusterManifest([general(2)]));
    await eventually(async () => (await ready())?.status === 'True', 'Ready');
    await bindTask('web-b', 'demo-general-1', 'RUNNING');
    await bindTask('web-a', 'demo-general-0', 'RUNNING');
    await setDesiredSize(1);
    await eventually(async () => (await store.get<ContainerInstance>(containerInstances, ns, 'demo-general-1'))?.spec.status === 'DRAINING', 'DRAINING');

    await setDesiredSize(2);
    await eventually(async () => (await store.get<ContainerInstance>(containerInstances, ns, 'demo-general-1'))?.spec.status === 'ACTIVE', 'ACTIVE again');
    await eventually(async () => (await ready())?.status === 'True', 'Ready');
    expect(await instanceNames()).toEqual(['demo-general-0', 'demo-general-1']);
  });

  test('instances of a removed node group are drained and deleted', async () => {
    await store.create(clusters, clusterManifest([general(1), { ...general(1), name: 'batch', provider: 'simulated', availabilityZones: undefined }]));
    await eventually(async () => (await instanceNames()).length === 2, 'two instances');
    await eventually(() => simulatedHosts.running.size === 1, 'the simulated host launched');
    expect([...simulatedHosts.running]).toEqual(['demo-batch-0']);

    const cluster = (await clusterNow())!;
    await store.update(clusters, { ...cluster, spec: { ...cluster.spec, nodeGroups: [general(1)] } });
    await eventually(async () => (await instanceNames()).join() === 'demo-general-0', 'demo-batch-0 to go');
    // The host goes once the controller has seen its instance go.
    await eventually(() => simulatedHosts.running.size === 0, 'its host terminated');
    expect(await eventMessages()).toEqual(expect.arrayContaining(['node group batch: draining demo-batch-0 as its node group was removed']));
  });

  test('a selfManaged group gets no instances, and its self-registered ones are left alone', async () => {
    await store.create(clusters, clusterManifest([{ name: 'edge', type: 'selfManaged' }]));
    await store.create(containerInstances, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ContainerInstance',
      metadata: { name: 'edge-host-1', namespace: ns },
      spec: { cluster: 'demo', nodeGroup: 'edge', registeredResources: { cpu: 1024, memory: 2048 } },
    } as KubeObject);
    await eventually(async () => (await clusterNow())?.status?.nodeGroups?.[0]?.currentSize === 1, 'the registered host counted');
    expect(await instanceNames()).toEqual(['edge-host-1']);
    expect((await clusterNow())?.status?.nodeGroups).toEqual([{ name: 'edge', currentSize: 1 }]);
    expect(hosts.running.size).toBe(0);
  });

  test('a restarted controller launches the hosts of the instances it finds', async () => {
    await store.create(clusters, clusterManifest([general(2)]));
    await eventually(async () => hosts.running.size === 2, 'two hosts');
    await stopManager();

    startManager();
    await eventually(async () => hosts.running.size === 2, 'the two hosts again');
    expect(await instanceNames()).toEqual(['demo-general-0', 'demo-general-1']);
  });

  test('deleting a cluster waits for the tasks on its instances and for self-managed hosts, then lets it go', async () => {
    await store.create(clusters, clusterManifest([general(2), { name: 'edge', type: 'selfManaged' }]));
    await eventually(async () => (await ready())?.status === 'True', 'Ready');
    await store.create(containerInstances, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ContainerInstance',
      metadata: { name: 'edge-host-1', namespace: ns },
      spec: { cluster: 'demo', nodeGroup: 'edge', registeredResources: { cpu: 1024, memory: 2048 } },
    } as KubeObject);
    await bindTask('web-a', 'demo-general-0', 'RUNNING');

    await store.delete(clusters, ns, 'demo');
    // The condition speaks of what the controller has seen: wait for it to have seen the empty instance go.
    const deleting = await eventually(async () => {
      const condition = await ready();
      return (
        condition?.reason === 'Deleting' &&
        condition.message.includes('demo-general-0 drains') &&
        (await instanceNames()).join() === 'demo-general-0,edge-host-1' &&
        condition
      );
    }, 'the empty instance gone, the busy one and the self-managed one kept');
    expect(deleting.message).toContain('demo-general-0 drains, 1 task still on it');
    expect(deleting.message).toContain('edge-host-1: self-managed, waiting for its agent to deregister it');
    expect((await store.get<ContainerInstance>(containerInstances, ns, 'edge-host-1'))?.spec.status).toBe('DRAINING');

    await setTaskStatus('web-a', 'STOPPED');
    await eventually(async () => (await instanceNames()).join() === 'edge-host-1', 'demo-general-0 to go');
    expect(await clusterNow()).toBeDefined();

    await store.delete(containerInstances, ns, 'edge-host-1');
    await eventually(async () => (await clusterNow()) === undefined, 'the cluster to go');
    expect(hosts.running.size).toBe(0);
  });
  describe('managed scaling', () => {
    const scaled = (managedScaling: Record<string, unknown>) =>
      general(1, { instanceType: { cpu: 2048, memory: 1024 }, scaling: { minSize: 1, maxSize: 5, desiredSize: 1 }, managedScaling });

    async function registerRevision(): Promise<void> {
      await store.create(controllerRevisions, {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: { name: 'web-1', namespace: ns },
        revision: 1,
        data: { family: 'web', spec: { networkMode: 'bridge', containerDefinitions: [{ name: 'web', image: 'web', memory: 512, essential: true }] } },
      } as KubeObject);
    }

    async function waitingTask(name: string): Promise<void> {
      await store.create(tasks, {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Task',
        metadata: { name, namespace: ns },
        spec: { cluster: 'demo', taskDefinition: 'web:1', group: 'service:web' },
      } as KubeObject);
      await setTaskStatus(name, 'PROVISIONING');
    }

    const groupStatus = async () => (await clusterNow())?.status?.nodeGroups?.find((entry) => entry.name === 'general');

    test('scales out for waiting tasks and back in once they are gone, keeping the size in status, not in the spec', async () => {
      await registerRevision();
      await store.create(clusters, clusterManifest([scaled({ instanceWarmupPeriod: 0, scaleInCooldownSeconds: 0 })]));
      await eventually(async () => (await instanceNames()).length === 1 && (await ready())?.status === 'True', 'the starting instance');

      // 3 tasks of 512 MiB wait; 2 fit an instance of 1024 MiB: 2 instances are needed, 1 runs.
      for (const name of ['web-a', 'web-b', 'web-c']) await waitingTask(name);
      await eventually(async () => (await instanceNames()).join() === 'demo-general-0,demo-general-1', '2 instances');
      expect(await groupStatus()).toMatchObject({ desiredSize: 2, lastScalingDecision: { direction: 'out', from: 1, to: 2 } });
      expect(await eventMessages()).toContain(
        'scaled node group general out from 1 to 2 instances: reservation 200% (2 instances needed, 1 running), target 100%',
      );
      expect((await clusterNow())?.spec.nodeGroups?.[0].scaling?.desiredSize).toBe(1);
      // The gauges are set as each reconcile looks: the one after the launch sees 2.
      await eventually(
        async () =>
          (await manager.registry.getSingleMetricAsString('berth_capacity_provider_instances')).includes(
            'berth_capacity_provider_instances{namespace="team-a",cluster="demo",capacity_provider="general",state="ACTIVE"} 2',
          ),
        'the instance gauge at 2 ACTIVE',
      );

      for (const name of ['web-a', 'web-b', 'web-c']) await store.delete(tasks, ns, name);
      await eventually(async () => (await instanceNames()).join() === 'demo-general-0', 'back to minSize');
      expect(await groupStatus()).toMatchObject({ desiredSize: 1, lastScalingDecision: { direction: 'in', from: 2, to: 1 } });
      expect(await eventMessages()).toContain(
        'scaled node group general in from 2 to 1 instances: reservation 0% (0 instances needed, 2 running), target 100%',
      );
    });

    test('a restarted controller keeps the size it scaled to (status), not the starting size of the spec', async () => {
      await registerRevision();
      await store.create(clusters, clusterManifest([scaled({ instanceWarmupPeriod: 0, scaleInCooldownSeconds: 3600 })]));
      for (const name of ['web-a', 'web-b', 'web-c']) await waitingTask(name);
      await eventually(async () => (await instanceNames()).length === 2 && (await groupStatus())?.desiredSize === 2, '2 instances');
      // The tasks go: the reservation is low, and the hour-long cooldown starts.
      for (const name of ['web-a', 'web-b', 'web-c']) await store.delete(tasks, ns, name);
      const lowSince = await eventually(async () => (await groupStatus())?.lowReservationSince, 'the cooldown to start');

      await stopManager();
      startManager();
      await eventually(async () => hosts.running.size === 2, 'the restarted controller to launch the hosts it finds');
      await eventually(async () => (await ready())?.status === 'True', 'Ready');
      expect((await instances()).map((instance) => [instance.metadata.name, instance.spec.status])).toEqual([
        ['demo-general-0', 'ACTIVE'],
        ['demo-general-1', 'ACTIVE'],
      ]);
      expect(await groupStatus()).toMatchObject({ desiredSize: 2, lowReservationSince: lowSince, lastScalingDecision: { direction: 'out', from: 1, to: 2 } });
    });

    test('an instance that runs only a DAEMON task is scaled in: daemon tasks keep no instance', async () => {
      await registerRevision();
      await store.create(services, {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'exporter', namespace: ns },
        spec: { cluster: 'demo', taskDefinition: 'web', schedulingStrategy: 'DAEMON' },
      } as KubeObject);
      await store.create(
        clusters,
        clusterManifest([
          general(2, {
            instanceType: { cpu: 2048, memory: 1024 },
            scaling: { minSize: 1, maxSize: 5, desiredSize: 2 },
            managedScaling: { instanceWarmupPeriod: 0, scaleInCooldownSeconds: 3600 },
          }),
        ]),
      );
      await eventually(async () => (await instanceNames()).length === 2, 'the 2 starting instances');
      const daemonTask = async (name: string, instance: string) => {
        await store.create(tasks, {
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'Task',
          metadata: { name, namespace: ns },
          spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: instance, group: 'service:exporter' },
        } as KubeObject);
        await setTaskStatus(name, 'RUNNING');
      };
      await daemonTask('exporter-0', 'demo-general-0');
      await daemonTask('exporter-1', 'demo-general-1');
      await bindTask('web-a', 'demo-general-0', 'RUNNING');
      // The controller has seen the tasks: web-a needs demo-general-0; the daemon tasks need nothing.
      await eventually(
        async () => (await groupStatus())?.instancesNeeded === 1 && (await groupStatus())?.lowReservationSince !== undefined,
        'the reservation low: 1 instance needed',
      );
      const cluster = (await clusterNow())!;
      await store.update(clusters, {
        ...cluster,
        spec: {
          nodeGroups: [
            general(2, {
              instanceType: { cpu: 2048, memory: 1024 },
              scaling: { minSize: 1, maxSize: 5, desiredSize: 2 },
              managedScaling: { instanceWarmupPeriod: 0, scaleInCooldownSeconds: 0 },
            }),
          ],
        },
      });
      await eventually(async () => (await instanceNames()).join() === 'demo-general-0', 'demo-general-1 and its daemon task to go');
    });

    test('keeps headroom under targetCapacity 50, waits out the cooldown, then removes only the instance without tasks', async () => {
      const withSettings = async (managedScaling: Record<string, unknown>) => {
        const cluster = (await clusterNow())!;
        await store.update(clusters, { ...cluster, spec: { nodeGroups: [scaled(managedScaling)] } });
      };
      await registerRevision();
      await store.create(clusters, clusterManifest([scaled({ instanceWarmupPeriod: 0, scaleInCooldownSeconds: 3600, targetCapacity: 50 })]));
      await eventually(async () => (await instanceNames()).length === 1, 'the starting instance');
      // One task on the starting instance: M = 1, and targetCapacity 50 keeps as many spare: 2 instances.
      await bindTask('web-a', 'demo-general-0', 'RUNNING');
      await eventually(async () => (await groupStatus())?.desiredSize === 2 && (await instanceNames()).length === 2, 'a spare instance');
      // The reservation alone is reported at most every taskCountsReportIntervalMs, after the decision itself.
      await eventually(async () => (await groupStatus())?.capacityProviderReservation === 50, 'reservation 50 %');
      expect(await groupStatus()).toMatchObject({ capacityProviderReservation: 50, instancesNeeded: 1 });

      // The task moves to the newer instance; at targetCapacity 100 one instance is enough, but the cooldown is an hour.
      // (Stopped first: two tasks at once would need 2 instances, and at targetCapacity 50 that is 4.)
      await setTaskStatus('web-a', 'STOPPED');
      await bindTask('web-b', 'demo-general-1', 'RUNNING');
      await withSettings({ instanceWarmupPeriod: 0, scaleInCooldownSeconds: 3600, targetCapacity: 100 });
      await eventually(async () => (await groupStatus())?.lowReservationSince !== undefined, 'the cooldown to start');
      expect(await instanceNames()).toEqual(['demo-general-0', 'demo-general-1']);

      // Without a cooldown it scales in: the empty demo-general-0 goes, demo-general-1 and its task stay.
      await withSettings({ instanceWarmupPeriod: 0, scaleInCooldownSeconds: 0, targetCapacity: 100 });
      await eventually(async () => (await instanceNames()).join() === 'demo-general-1', 'the empty instance to go');
      // The decision is written before the instance goes; the size it leaves is reported by the next reconcile.
      await eventually(async () => (await groupStatus())?.currentSize === 1, 'the status to count 1 instance');
      expect(await groupStatus()).toMatchObject({ desiredSize: 1, currentSize: 1 });
    });
  });
});
