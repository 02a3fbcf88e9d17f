import { services, validatorFor, type Service } from '../index';
import { deploymentLimits } from './service';

const validator = validatorFor(services)!;

function stored(spec: Record<string, unknown>, name = 'web'): Service {
  return validator.applyDefaults({ apiVersion: 'berth.dev/v1alpha1', kind: 'Service', metadata: { name }, spec } as unknown as Service);
}

describe('Service defaults', () => {
  it('give a REPLICA service one task and ECS’s 100/200 deployment limits', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'web' });
    expect(service.spec.desiredCount).toBe(1);
    expect(service.spec.deploymentConfiguration.deploymentCircuitBreaker).toEqual({ enable: false, rollback: false });
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 100, maximumPercent: 200 });
  });

  it('let a DAEMON service through with the defaulted desiredCount and no surge', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'node-exporter', schedulingStrategy: 'DAEMON' });
    expect(validator.validate(service)).toEqual([]);
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 0, maximumPercent: 100 });
  });

  it('keep limits the user chose', () => {
    const service = stored({ cluster: 'demo', taskDefinition: 'web', deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150 } });
    expect(deploymentLimits(service.spec)).toEqual({ minimumHealthyPercent: 50, maximumPercent: 150 });
  });
});

describe('Service names', () => {
  it('fit the label value every task of the service carries: at most 63 characters', () => {
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'web' }, 'w'.repeat(63)))).toEqual([]);
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'web' }, 'w'.repeat(64)))).toEqual([
      'metadata.name: Invalid value: "object": must be no more than 63 characters: the service\'s tasks carry its name as the value of their berth.dev/service label, which Kubernetes limits to 63 characters',
    ]);
  });
});

describe('Service features not supported yet', () => {
  it('leave what Berth implements alone: distinctInstance on a REPLICA service, launchType EC2, lists that ask for nothing', () => {
    const service = stored({
      cluster: 'demo',
      taskDefinition: 'web',
      launchType: 'EC2',
      placementConstraints: [{ type: 'distinctInstance' }],
      placementStrategy: [],
      capacityProviderStrategy: [],
    });
    expect(validator.validate(service)).toEqual([]);
    expect(validator.validate(stored({ cluster: 'demo', taskDefinition: 'node-exporter', schedulingStrategy: 'DAEMON', placementConstraints: [] }))).toEqual(
      [],
    );
  });
});

describe('Service updates', () => {
  it('refuse moving a service to another cluster or scheduling strategy', () => {
    const old = stored({ cluster: 'demo', taskDefinition: 'web' });
    const moved = stored({ cluster: 'other', taskDefinition: 'web', schedulingStrategy: 'DAEMON' });
    expect(validator.validate(moved, old)).toEqual([
      'spec.cluster: Invalid value: "string": cluster is immutable',
      'spec.schedulingStrategy: Invalid value: "string": schedulingStrategy is immutable',
    ]);
  });

  it('validate status too, as a status update does', () => {
    const service = { ...stored({ cluster: 'demo', taskDefinition: 'web' }), status: { runningCount: -1, deployments: [{ id: 'd1' }] } };
    expect(validator.validate(service)).toEqual([
      'status.runningCount: Invalid value: -1: status.runningCount in body should be greater than or equal to 0',
      'status.deployments[0].status: Required value',
      'status.deployments[0].taskDefinition: Required value',
      'status.deployments[0].desiredCount: Required value',
      'status.deployments[0].runningCount: Required value',
      'status.deployments[0].pendingCount: Required value',
      'status.deployments[0].rolloutState: Required value',
    ]);
  });
});
