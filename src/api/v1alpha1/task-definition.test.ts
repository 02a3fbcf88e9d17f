import { taskDefinitions, validatorFor } from '..';

const validator = validatorFor(taskDefinitions)!;

function refusals(spec: Record<string, unknown>): string[] {
  return validator.validate(validator.applyDefaults({ apiVersion: 'berth.dev/v1alpha1', kind: 'TaskDefinition', metadata: { name: 'web' }, spec }));
}

/** A container definition as `aws ecs describe-task-definition` prints it. */
const pastedFromEcs = {
  name: 'web',
  image: 'public.ecr.aws/nginx/nginx:1.27',
  cpu: 0,
  memory: 512,
  portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp', name: 'web-80-tcp' }],
  essential: true,
  environment: [{ name: 'MODE', value: 'production' }],
  environmentFiles: [],
  mountPoints: [],
  volumesFrom: [],
  systemControls: [],
  healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 30, timeout: 5, retries: 3, startPeriod: 10 },
  ulimits: [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }],
  logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'ecs' } },
};

describe('TaskDefinition', () => {
  it('accepts containerDefinitions pasted from ECS, empty lists of unsupported fields included', () => {
    expect(refusals({ networkMode: 'awsvpc', containerDefinitions: [pastedFromEcs] })).toEqual([]);
  });

  it('takes any task memory a Docker limit can be on EC2 (ECS takes 64 MiB), while Fargate keeps its sizes', () => {
    const small = { memory: 64, containerDefinitions: [{ name: 'agent', image: 'agent:1' }] };
    expect(refusals(small)).toEqual([]);
    expect(refusals({ ...small, memory: 5 })).toEqual(['spec.memory: Invalid value: 5: spec.memory in body should be greater than or equal to 6']);
    expect(refusals({ ...small, cpu: 256, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'] })).not.toEqual([]);
  });

  it('refuses an unsupported ECS field once it asks for something', () => {
    expect(refusals({ containerDefinitions: [{ ...pastedFromEcs, systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }] }] })).toEqual([
      'spec.containerDefinitions[0].systemControls: Forbidden: systemControls is not supported: Berth does not set sysctls',
    ]);
  });

  it.each([
    [256, 512],
    [256, 2048],
    [512, 3072],
    [4096, 30720],
  ])('accepts the FARGATE size cpu %i / memory %i', (cpu, memory) => {
    expect(refusals({ requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu, memory, containerDefinitions: [pastedFromEcs] })).toEqual([]);
  });

  it.each([
    [256, 3072],
    [512, 4608],
    [4096, 31744],
  ])('refuses the FARGATE size cpu %i / memory %i', (cpu, memory) => {
    expect(refusals({ requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu, memory, containerDefinitions: [pastedFromEcs] })).toEqual([
      expect.stringMatching(/^spec\.memory: Invalid value: "object": invalid FARGATE cpu\/memory pair/),
    ]);
  });
});
