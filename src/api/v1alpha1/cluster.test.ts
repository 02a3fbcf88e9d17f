import { clusters, validatorFor } from '..';

const validator = validatorFor(clusters)!;

function refusals(nodeGroup: Record<string, unknown>): string[] {
  return validator.validate(
    validator.applyDefaults({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'prod', namespace: 'default' },
      spec: { nodeGroups: [nodeGroup] },
    }),
  );
}

const machineDeployment = { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDeployment', name: 'workers' };
const selector = { matchLabels: { 'node.cluster.x-k8s.io/pool': 'workers' } };

describe('Cluster node groups of Nodes', () => {
  it('accepts a managed group whose Nodes come from a scale target', () => {
    expect(
      refusals({
        name: 'workers',
        type: 'managed',
        instanceType: { cpu: 2048, memory: 4096 },
        scaling: { minSize: 1, maxSize: 10 },
        nodes: { selector, scaleTarget: machineDeployment },
      }),
    ).toEqual([]);
  });

  it('refuses a managed group of Nodes without a scale target: nothing could add its Nodes', () => {
    expect(refusals({ name: 'workers', type: 'managed', instanceType: { cpu: 2048, memory: 4096 }, scaling: { maxSize: 10 }, nodes: { selector } })).toEqual([
      'spec.nodeGroups[0].nodes.scaleTarget: Required value: a managed group of Nodes needs a scaleTarget (e.g. a Cluster API MachineDeployment): Berth adds and removes its Nodes through it',
    ]);
  });

  it('refuses a scale target on a selfManaged group, which Berth never scales', () => {
    expect(refusals({ name: 'workers', type: 'selfManaged', nodes: { selector, scaleTarget: machineDeployment } })).toEqual([
      'spec.nodeGroups[0].nodes.scaleTarget: Forbidden: a selfManaged group of Nodes takes no scaleTarget: Berth never scales it (use type managed)',
    ]);
  });

  it.each(['availabilityZones', 'attributes'])('refuses %s on a group of Nodes, whose attributes are its Nodes labels', (field) => {
    const value = field === 'attributes' ? { team: 'a' } : ['eu-west-1a'];
    expect(refusals({ name: 'workers', type: 'selfManaged', nodes: { selector }, [field]: value })).toEqual([
      `spec.nodeGroups[0].${field}: Forbidden: a group of Nodes takes no ${field}: its instances are the Nodes, with their labels as attributes`,
    ]);
  });

  it('refuses a scale target whose kind or apiVersion is not one', () => {
    expect(
      refusals({
        name: 'w',
        type: 'managed',
        instanceType: { cpu: 2048, memory: 4096 },
        scaling: { maxSize: 1 },
        nodes: { selector, scaleTarget: { ...machineDeployment, kind: 'machine deployment', apiVersion: 'x' } },
      }),
    ).toHaveLength(2);
  });
});
