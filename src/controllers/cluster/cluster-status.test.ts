import type { Cluster, ContainerInstance, Service, Task } from '../../api';
import { clusterCounts, readyCondition } from './cluster-status';

const cluster: Cluster = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: 'demo', namespace: 'ns' },
  spec: {
    nodeGroups: [
      { name: 'general', type: 'managed', instanceType: { cpu: 1024, memory: 1024 }, scaling: { minSize: 2, maxSize: 4 } },
      { name: 'edge', type: 'selfManaged' },
    ],
  },
  // A stale entry: the counts are made anew, a reservation only comes with managed scaling.
  status: { nodeGroups: [{ name: 'general', capacityProviderReservation: 150, currentSize: 9 }] },
};

function instance(name: string, nodeGroup: string, fields: { status?: ContainerInstance['status']; deleting?: boolean } = {}): ContainerInstance {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name, namespace: 'ns', ...(fields.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { cluster: 'demo', nodeGroup, status: 'ACTIVE', registeredResources: { cpu: 1024, memory: 1024 } },
    status: fields.status,
  };
}

function task(name: string, lastStatus?: NonNullable<Task['status']>['lastStatus']): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns' },
    spec: { cluster: 'demo', taskDefinition: 'web:1', desiredStatus: 'RUNNING' },
    ...(lastStatus ? { status: { lastStatus } } : {}),
  };
}

const service = (name: string, deleting = false) =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'ns', ...(deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  }) as Service;

describe('clusterCounts', () => {
  test('counts registered instances, live services, and RUNNING and not-yet-running tasks', () => {
    const counts = clusterCounts(cluster, {
      instances: [
        instance('demo-general-0', 'general'),
        instance('demo-general-1', 'general', { status: { status: 'DRAINING' } }),
        instance('demo-general-2', 'general', { deleting: true }),
        instance('edge-1', 'edge', { status: { status: 'INACTIVE' } }),
        instance('edge-2', 'edge'),
      ],
      services: [service('web'), service('old', true)],
      tasks: [task('a', 'RUNNING'), task('b'), task('c', 'PROVISIONING'), task('d', 'ACTIVATING'), task('e', 'DEACTIVATING'), task('f', 'STOPPED')],
    });
    expect(counts).toEqual({
      registeredContainerInstancesCount: 3,
      activeServicesCount: 1,
      runningTasksCount: 1,
      pendingTasksCount: 3,
      nodeGroups: [
        { name: 'general', desiredSize: 2, currentSize: 2 },
        { name: 'edge', currentSize: 1 },
      ],
    });
  });

  test('a group with managed scaling takes its size, reservation and last decision from the scaling decision, not from the spec', () => {
    const lastScalingDecision = { direction: 'out' as const, from: 2, to: 3, reason: 'reservation 150%', time: '2026-01-01T00:00:00Z' };
    const counts = clusterCounts(
      cluster,
      { instances: [instance('demo-general-0', 'general')], services: [], tasks: [] },
      new Map([['general', { desiredSize: 3, capacityProviderReservation: 150, instancesNeeded: 3, lastScalingDecision }]]),
    );
    expect(counts.nodeGroups[0]).toEqual({
      name: 'general',
      desiredSize: 3,
      currentSize: 1,
      capacityProviderReservation: 150,
      instancesNeeded: 3,
      lastScalingDecision,
    });
  });
});

describe('readyCondition', () => {
  const empty = { cause: 'scale-in' as const, create: [], drain: [], reactivate: [], delete: [], waiting: [] };

  test('True when no node group has anything to do', () => {
    expect(readyCondition(3, [{ subject: 'node group general', plan: empty }])).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'NodeGroupsAtDesiredSize',
      message: 'every managed node group has its desired instances',
      observedGeneration: 3,
    });
  });

  test('False with what is under way, per node group', () => {
    const plan = { ...empty, create: [instance('demo-general-2', 'general')], waiting: [{ instance: instance('demo-general-1', 'general'), activeTasks: 2 }] };
    expect(readyCondition(3, [{ subject: 'node group general', plan }])).toMatchObject({
      status: 'False',
      reason: 'Scaling',
      message: 'node group general: launching demo-general-2, demo-general-1 drains, 2 tasks still on it',
    });
  });
});

describe('readyCondition of groups of Nodes nobody serves', () => {
  test('berth local has no Nodes to mirror: the cluster says so instead of a group silently empty', () => {
    expect(readyCondition(3, [], ['workers'])).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'NoKubernetesNodes',
      message:
        'node group workers selects Kubernetes Nodes, and this control plane has no cluster to read them from (berth local): run berth operator against a cluster, or use a managed group',
      observedGeneration: 3,
    });
  });
});
