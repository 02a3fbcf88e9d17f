import { nodeCordonedAnnotation } from '../../ecs/pods';
import type { Cluster, ContainerInstance, NodeGroup } from '../../api';
import type { NodeObject } from '../../ecs/pods';
import { cordonSync, mirroredInstance, nodeAttributes, nodeResources, reservedByOthers, selectNodes, type PodFacts } from './node-instance';
import { cpuUnits, mebibytes, parseQuantity } from '../../ecs/quantity';

const node = (name: string, fields: { labels?: Record<string, string>; unschedulable?: boolean; cpu?: string; memory?: string } = {}): NodeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: fields.labels ?? {} },
  spec: { ...(fields.unschedulable !== undefined && { unschedulable: fields.unschedulable }) },
  status: { allocatable: { cpu: fields.cpu ?? '2', memory: fields.memory ?? '4Gi', pods: '110' } },
});

const cluster: Cluster = { apiVersion: 'berth.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'prod', namespace: 'shop', uid: 'c-1' }, spec: {} };
const group = (name: string, matchLabels: Record<string, string>, allowHostPaths = false): NodeGroup => ({
  name,
  type: 'selfManaged',
  nodes: { selector: { matchLabels }, allowHostPaths },
});

describe('quantities', () => {
  test.each([
    ['2', 2048],
    ['1500m', 1536],
    ['100m', 102],
    ['0.5', 512],
  ])('cpu %s is %d units', (quantity, units) => expect(cpuUnits(quantity)).toBe(units));
  test.each([
    ['4Gi', 4096],
    ['16418664Ki', 16033],
    ['1e9', 953],
    ['512M', 488],
  ])('memory %s is %d MiB', (quantity, mib) => expect(mebibytes(quantity)).toBe(mib));
  test('what is not a quantity is refused', () => expect(() => parseQuantity('2 cores')).toThrow('not a Kubernetes quantity'));
});

describe('mirroring a Node', () => {
  test('the well-known labels become the ECS attributes, the rest custom attributes', () => {
    const attributes = nodeAttributes(
      node('n1', {
        labels: {
          'topology.kubernetes.io/zone': 'eu-west-1a',
          'node.kubernetes.io/instance-type': 'm5.large',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/os': 'linux',
          team: 'payments',
          'ecs.instance-type': 'spoofed',
        },
      }),
    );
    expect(attributes).toEqual({
      'ecs.availability-zone': 'eu-west-1a',
      'ecs.instance-type': 'm5.large',
      'ecs.cpu-architecture': 'x86_64',
      'ecs.os-type': 'linux',
      team: 'payments',
    });
  });

  test('allocatable becomes the registered resources; the group tells whether host paths are allowed', () => {
    expect(nodeResources(node('n1', { cpu: '3500m', memory: '8Gi' }))).toEqual({ cpu: 3584, memory: 8192 });
    const instance = mirroredInstance(cluster, group('g', {}, true), node('n1'), 'ACTIVE');
    expect(instance.metadata).toMatchObject({ name: 'prod-n1', namespace: 'shop', ownerReferences: [{ kind: 'Cluster', uid: 'c-1', controller: false }] });
    expect(instance.spec).toMatchObject({
      cluster: 'prod',
      nodeGroup: 'g',
      nodeName: 'n1',
      status: 'ACTIVE',
      attributes: { 'berth.dev/host-paths': 'allowed' },
    });
    expect(mirroredInstance(cluster, group('g', {}), node('n1'), 'ACTIVE').spec.attributes?.['berth.dev/host-paths']).toBeUndefined();
  });

  test('a Node matched by two groups belongs to the first in spec order', () => {
    const nodes = [node('a', { labels: { pool: 'x', gpu: 'yes' } }), node('b', { labels: { pool: 'x' } }), node('c')];
    const chosen = selectNodes([group('gpu', { gpu: 'yes' }), group('pool', { pool: 'x' })], nodes, (g, n) =>
      Object.entries(g.nodes!.selector.matchLabels ?? {}).every(([k, v]) => n.metadata.labels?.[k] === v),
    );
    expect([...chosen].map(([name, g]) => [name, g.name])).toEqual([
      ['a', 'gpu'],
      ['b', 'pool'],
    ]);
  });
});

describe('cordonSync', () => {
  const mirror = (status: 'ACTIVE' | 'DRAINING', seen?: 'true' | 'false'): ContainerInstance => ({
    ...mirroredInstance(cluster, group('g', {}), node('n1'), status),
    metadata: { name: 'prod-n1', namespace: 'shop', ...(seen && { annotations: { [nodeCordonedAnnotation]: seen } }) },
  });
  test('a new mirror takes the Node as it is', () => {
    expect(cordonSync(node('n1', { unschedulable: true }), undefined)).toEqual({ instanceStatus: 'DRAINING', seen: 'true' });
    expect(cordonSync(node('n1'), undefined)).toEqual({ instanceStatus: 'ACTIVE', seen: 'false' });
  });
  test('kubectl cordon and uncordon move the instance', () => {
    expect(cordonSync(node('n1', { unschedulable: true }), mirror('ACTIVE', 'false'))).toEqual({ instanceStatus: 'DRAINING', seen: 'true' });
    expect(cordonSync(node('n1'), mirror('DRAINING', 'true'))).toEqual({ instanceStatus: 'ACTIVE', seen: 'false' });
  });
  test('berth drain and undrain move the Node', () => {
    expect(cordonSync(node('n1'), mirror('DRAINING', 'false'))).toEqual({ instanceStatus: 'DRAINING', cordonNode: true, seen: 'true' });
    expect(cordonSync(node('n1', { unschedulable: true }), mirror('ACTIVE', 'true'))).toEqual({ instanceStatus: 'ACTIVE', cordonNode: false, seen: 'false' });
  });
  test('in step, nothing moves', () => {
    expect(cordonSync(node('n1', { unschedulable: true }), mirror('DRAINING', 'true'))).toEqual({ instanceStatus: 'DRAINING', seen: 'true' });
  });
});

describe('reservedByOthers', () => {
  const pod = (fields: Partial<PodFacts>): PodFacts => ({ namespace: 'kube-system', containers: [], initContainers: [], ...fields });
  test('sums what other Pods request, as kube-scheduler counts them, and the host ports they hold', () => {
    const reserved = reservedByOthers(
      [
        pod({ containers: [{ requests: { cpu: '100m', memory: '64Mi' }, hostPorts: [{ port: 9100, protocol: 'tcp' }] }] }),
        // An init container larger than the containers: the Pod needs its size (plus the sidecar's, which runs beside it).
        pod({
          containers: [{ requests: { cpu: '100m', memory: '32Mi' }, hostPorts: [] }],
          initContainers: [
            { requests: { cpu: '50m', memory: '16Mi' }, sidecar: true },
            { requests: { cpu: '1', memory: '256Mi' }, sidecar: false },
          ],
        }),
        pod({ podRequests: { cpu: '250m', memory: '128Mi' }, containers: [{ requests: { cpu: '1' }, hostPorts: [{ port: 53, protocol: 'udp' }] }] }),
        pod({ phase: 'Succeeded', containers: [{ requests: { cpu: '4' }, hostPorts: [] }] }),
        pod({ namespace: 'shop', labels: { mine: 'yes' }, containers: [{ requests: { cpu: '2' }, hostPorts: [{ port: 8080, protocol: 'tcp' }] }] }),
      ],
      (p) => p.labels?.mine === 'yes',
    );
    // 102 + max(102 + 51, 1024 + 51) + 256 = 1,433 units; 64 + max(32 + 16, 256 + 16) + 128 = 464 MiB.
    expect(reserved).toEqual({ cpu: 1433, memory: 464, ports: [9100], udpPorts: [53] });
  });
});
