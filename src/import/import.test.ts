import { importEcs, ImportError, type ImportOptions, type Manifest } from '.';

/** Imports `input` (an object, serialized as a user's file would be) and returns the manifests and the report lines. */
function run(input: unknown, options: ImportOptions = {}) {
  const { manifests, report } = importEcs(JSON.stringify(input), 'in.json', options);
  // Spec assertions read TaskDefinitions and Services; a ServiceAccount is compared whole.
  return { manifests: manifests as Manifest[], lines: report.map((l) => `${l.path}: ${l.message}`) };
}

function refusal(input: unknown, options: ImportOptions = {}): string[] {
  try {
    importEcs(JSON.stringify(input), 'in.json', options);
  } catch (error) {
    if (error instanceof ImportError) return [error.summary, ...error.problems];
    throw error;
  }
  throw new Error('imported');
}

const container = { name: 'web', image: 'nginx:1.27', memory: 128 };
const taskDefinition = (fields: Record<string, unknown> = {}, containerFields: Record<string, unknown> = {}) => ({
  family: 'web',
  containerDefinitions: [{ ...container, ...containerFields }],
  ...fields,
});
const specOf = (input: unknown) => run(input).manifests.find((m) => m.kind === 'TaskDefinition')!.spec;

describe('task definitions', () => {
  test('a plain one passes as it is, named by its family', () => {
    expect(run(taskDefinition())).toEqual({
      manifests: [{ apiVersion: 'berth.dev/v1alpha1', kind: 'TaskDefinition', metadata: { name: 'web' }, spec: { containerDefinitions: [container] } }],
      lines: [],
    });
  });

  test('a family that is not a Kubernetes name: the name is sanitized deterministically, the family kept in spec.family', () => {
    const { manifests, lines } = run({ ...taskDefinition(), family: 'My_App' });
    expect(manifests[0]).toMatchObject({ metadata: { name: 'my-app' }, spec: { family: 'My_App' } });
    expect(lines).toEqual(['family: TaskDefinition my-app: the family My_App is not a Kubernetes name, so it stays in spec.family']);
  });

  test('-n sets the namespace of every manifest', () => {
    const { manifests } = run(taskDefinition({ taskRoleArn: 'arn:aws:iam::1:role/web' }), { namespace: 'team-a' });
    expect(manifests.map((m) => m.metadata.namespace)).toEqual(['team-a', 'team-a']);
  });

  test('task cpu and memory: ECS strings, with or without units', () => {
    expect(specOf(taskDefinition({ cpu: '256', memory: '512' }))).toMatchObject({ cpu: 256, memory: 512 });
    const { manifests, lines } = run(taskDefinition({ cpu: '0.5 vCPU', memory: '2 GB' }));
    expect(manifests[0].spec).toMatchObject({ cpu: 512, memory: 2048 });
    expect(lines).toEqual(['cpu: "0.5 vCPU" read as 512 CPU units', 'memory: "2 GB" read as 2048 MiB']);
  });

  test('numbers and booleans written as strings are converted and reported', () => {
    const { manifests, lines } = run(taskDefinition({}, { memory: '256', essential: 'true', portMappings: [{ containerPort: '80' }] }));
    expect(manifests[0].spec.containerDefinitions).toEqual([{ ...container, memory: 256, essential: true, portMappings: [{ containerPort: 80 }] }]);
    expect(lines).toEqual([
      'containerDefinitions[0].essential: the string "true" read as the boolean true',
      'containerDefinitions[0].memory: the string "256" read as the number 256',
      'containerDefinitions[0].portMappings[0].containerPort: the string "80" read as the number 80',
    ]);
  });

  test('nulls and empty lists ask for nothing, as the AWS CLI reads them', () => {
    const { manifests, lines } = run(
      taskDefinition({ placementConstraints: [], volumes: [], requiresCompatibilities: [] }, { ulimits: null, mountPoints: [], links: [], environment: [] }),
    );
    expect(manifests[0].spec).toEqual({ containerDefinitions: [container] });
    expect(lines).toEqual([]);
  });

  test('a dynamic host port stays dynamic: no hostPort is invented, hostPort 0 is kept', () => {
    const ports = [
      { containerPort: 80, protocol: 'tcp' },
      { containerPort: 81, hostPort: 0 },
    ];
    expect(specOf(taskDefinition({ networkMode: 'bridge' }, { portMappings: ports })).containerDefinitions).toEqual([{ ...container, portMappings: ports }]);
  });

  test('essential, dependsOn, health checks and stopTimeout pass as they are', () => {
    const containers = [
      {
        ...container,
        essential: true,
        dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }],
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 10, timeout: 2, retries: 3, startPeriod: 5 },
      },
      { ...container, name: 'init', essential: false, stopTimeout: 2 },
    ];
    expect(specOf({ family: 'web', containerDefinitions: containers }).containerDefinitions).toEqual(containers);
  });

  test('a dependsOn naming no container is refused with the schema’s message', () => {
    expect(refusal(taskDefinition({}, { dependsOn: [{ containerName: 'db', condition: 'START' }] }))).toEqual([
      'in.json: task definition web cannot be imported:',
      'containerDefinitions: Invalid value: "object": dependsOn must name a container of this task definition',
    ]);
  });

  test('volumes: host, Docker and task-scoped pass; EFS and EBS-at-launch become task-scoped, reported', () => {
    const volumes = [
      { name: 'scratch', host: {} },
      { name: 'docker', host: { sourcePath: '/var/run/docker.sock' } },
      { name: 'shared', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local' } },
      { name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-1', rootDirectory: '/' } },
      { name: 'ebs', configuredAtLaunch: true },
    ];
    const mountPoints = volumes.map((v) => ({ sourceVolume: v.name, containerPath: `/mnt/${v.name}`, readOnly: null }));
    const { manifests, lines } = run(taskDefinition({ volumes }, { mountPoints }));
    expect(manifests[0].spec.volumes).toEqual([...volumes.slice(0, 3), { name: 'efs' }, { name: 'ebs' }]);
    expect(manifests[0].spec.containerDefinitions).toEqual([
      { ...container, mountPoints: volumes.map((v) => ({ sourceVolume: v.name, containerPath: `/mnt/${v.name}` })) },
    ]);
    expect(lines).toEqual([
      "volumes[3].efsVolumeConfiguration: not imported (file system fs-1): Berth has no EFS, so the volume is an empty directory for the task's life; for shared storage use a dockerVolumeConfiguration with an NFS volume driver",
      "volumes[4].configuredAtLaunch: not imported: Berth attaches no EBS volume at launch, so the volume is an empty directory for the task's life",
    ]);
  });

  test('fields Berth rejects are left out and reported with the schema’s reason, field path first', () => {
    const { manifests, lines } = run({
      family: 'web',
      pidMode: 'task',
      containerDefinitions: [container, { ...container, name: 'proxy', links: ['web'], linuxParameters: { capabilities: { add: ['NET_ADMIN'] } } }],
    });
    expect(manifests[0].spec).toEqual({ containerDefinitions: [container, { ...container, name: 'proxy' }] });
    expect(lines).toEqual([
      'containerDefinitions[1].links: not imported: containers of a task reach each other through mapped ports or shared volumes',
      'containerDefinitions[1].linuxParameters: not imported: Berth does not support Linux capabilities, devices or tmpfs; use volumes for shared storage',
      'pidMode: not imported: Berth does not share process namespaces',
    ]);
  });

  test('a field Berth has never heard of is reported too', () => {
    expect(run(taskDefinition({}, { inferenceDevices: ['d1'] })).lines).toEqual([
      'containerDefinitions[0].inferenceDevices: not imported: Berth has no such field',
    ]);
  });

  test('awslogs and awsfirelens are left out with the reason; a Docker log driver Berth runs stays', () => {
    const awslogs = { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web', 'awslogs-stream-prefix': 'web' } };
    const { manifests, lines } = run({
      family: 'web',
      containerDefinitions: [
        { ...container, logConfiguration: awslogs },
        { ...container, name: 'app', logConfiguration: { logDriver: 'awsfirelens', secretOptions: [{ name: 'k', valueFrom: '/k' }] } },
        { ...container, name: 'local', logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } } },
      ],
    });
    expect(manifests[0].spec.containerDefinitions).toEqual([
      container,
      { ...container, name: 'app' },
      { ...container, name: 'local', logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } } },
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/^containerDefinitions\[0\]\.logConfiguration: awslogs not imported: Docker's awslogs driver needs AWS credentials/),
      expect.stringMatching(/^containerDefinitions\[1\]\.logConfiguration: awsfirelens not imported: Berth has no FireLens/),
    ]);
  });

  test('the task role becomes a ServiceAccount with the IRSA annotation; the execution role is reported', () => {
    const arn = 'arn:aws:iam::012345678910:role/service/ecs_task_role';
    const { manifests, lines } = run(taskDefinition({ taskRoleArn: arn, executionRoleArn: 'arn:aws:iam::012345678910:role/ecsExecutionRole' }));
    expect(manifests).toEqual([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ecs-task-role', annotations: { 'eks.amazonaws.com/role-arn': arn } } },
      expect.objectContaining({ kind: 'TaskDefinition', spec: { containerDefinitions: [container], taskRole: 'ecs-task-role' } }),
    ]);
    expect(lines).toEqual([
      'taskRoleArn: taskRole ecs-task-role: a ServiceAccount, emitted with the annotation eks.amazonaws.com/role-arn (IAM roles for service accounts on EKS)',
      'executionRoleArn: not imported: the agent pulls images and reads secrets with its own credentials; use repositoryCredentials and secrets',
    ]);
  });

  test('a task role that is not an ARN (a template placeholder) is reported, not turned into a ServiceAccount', () => {
    const { manifests, lines } = run(taskDefinition({ taskRoleArn: '{{task-role-arn}}' }));
    expect(manifests.map((m) => m.kind)).toEqual(['TaskDefinition']);
    expect(lines).toEqual([
      'taskRoleArn: "{{task-role-arn}}" holds a template placeholder, imported as it is: render the template first',
      'taskRoleArn: not imported: "{{task-role-arn}}" is not an IAM role ARN; set spec.taskRole to the ServiceAccount the task should run as',
    ]);
  });

  test('secrets become secretKeyRefs, and the user is told which Secret key to create from which source', () => {
    const secrets = [
      { name: 'DB_URL', valueFrom: 'arn:aws:ssm:eu-west-1:1:parameter/prod/db/url' },
      { name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf:password::' },
      { name: 'TOKEN', valueFrom: '/prod/token' },
      { name: 'BROKEN', valueFrom: '{{ secret }}' },
    ];
    const { manifests, lines } = run(taskDefinition({}, { secrets }));
    expect(manifests[0].spec.containerDefinitions).toEqual([
      {
        ...container,
        secrets: [
          { name: 'DB_URL', valueFrom: { secretKeyRef: { name: 'prod-db-url', key: 'value' } } },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'prod-db', key: 'password' } } },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'prod-token', key: 'value' } } },
        ],
      },
    ]);
    expect(lines).toEqual([
      'containerDefinitions[0].secrets[3].valueFrom: "{{ secret }}" holds a template placeholder, imported as it is: render the template first',
      'containerDefinitions[0].secrets[0].valueFrom: Secret prod-db-url key value: create it from SSM Parameter Store parameter arn:aws:ssm:eu-west-1:1:parameter/prod/db/url',
      'containerDefinitions[0].secrets[1].valueFrom: Secret prod-db key password: create it from the JSON key password of Secrets Manager secret arn:aws:secretsmanager:eu-west-1:1:secret:prod/db-AbCdEf:password::',
      'containerDefinitions[0].secrets[2].valueFrom: Secret prod-token key value: create it from SSM Parameter Store parameter /prod/token',
      'containerDefinitions[0].secrets[3].valueFrom: not imported (variable BROKEN): "{{ secret }}" is neither a Secrets Manager ARN, an SSM parameter ARN nor a parameter name',
    ]);
  });

  test('registry credentials and S3 environment files become Secrets', () => {
    const { manifests, lines } = run(
      taskDefinition(
        {},
        {
          repositoryCredentials: { credentialsParameter: 'arn:aws:secretsmanager:eu-west-1:1:secret:dockerhub-AbCdEf' },
          environmentFiles: [{ value: 'arn:aws:s3:::my-bucket/prod/app.env', type: 's3' }],
        },
      ),
    );
    expect(manifests[0].spec.containerDefinitions).toEqual([
      { ...container, repositoryCredentials: { credentialsParameter: 'dockerhub' }, environmentFiles: [{ secretRef: { name: 'my-bucket-prod-app-env' } }] },
    ]);
    expect(lines).toEqual([
      'containerDefinitions[0].environmentFiles[0]: Secret my-bucket-prod-app-env: create it from the environment file s3://my-bucket/prod/app.env (kubectl create secret generic my-bucket-prod-app-env --from-env-file=FILE)',
      'containerDefinitions[0].repositoryCredentials.credentialsParameter: Secret dockerhub of type kubernetes.io/dockerconfigjson: create it with the registry username and password of Secrets Manager secret arn:aws:secretsmanager:eu-west-1:1:secret:dockerhub-AbCdEf',
    ]);
  });

  test('tags become labels where they are valid labels', () => {
    const { manifests, lines } = run(
      taskDefinition({
        tags: [
          { key: 'team', value: 'web' },
          { key: 'aws:cloudformation:stack-name', value: 'x' },
        ],
      }),
    );
    expect(manifests[0].metadata.labels).toEqual({ team: 'web' });
    expect(lines).toEqual(['tags[1]: not imported: "aws:cloudformation:stack-name"="x" is not a valid Kubernetes label']);
  });

  test('output-only fields of a registered task definition are reported as such', () => {
    const { lines } = run(taskDefinition({ taskDefinitionArn: 'arn:aws:ecs:eu-west-1:1:task-definition/web:4', revision: 4, status: 'ACTIVE' }));
    expect(lines).toEqual([
      'taskDefinitionArn: output-only, not imported: the ARN ECS gave this revision',
      'revision: output-only, not imported: Berth numbers the revisions of a family itself (status.revision)',
      'status: output-only, not imported: Berth keeps it in status.status',
    ]);
  });

  test('describe-task-definition: paths under taskDefinition, its top-level tags as labels', () => {
    const { manifests, lines } = run({ taskDefinition: taskDefinition({ pidMode: 'host' }), tags: [{ key: 'env', value: 'prod' }] });
    expect(manifests[0].metadata).toEqual({ name: 'web', labels: { env: 'prod' } });
    expect(lines).toEqual(['taskDefinition.pidMode: not imported: Berth does not share process namespaces']);
  });

  test('MANAGED_INSTANCES is imported as EC2', () => {
    const { manifests, lines } = run(taskDefinition({ requiresCompatibilities: ['MANAGED_INSTANCES'] }));
    expect(manifests[0].spec.requiresCompatibilities).toEqual(['EC2']);
    expect(lines).toEqual([
      'requiresCompatibilities[0]: MANAGED_INSTANCES imported as EC2: the instances AWS manages for ECS are a managed node group in Berth',
    ]);
  });

  test('GPUs and Windows are refused with the fields', () => {
    expect(refusal(taskDefinition({}, { resourceRequirements: [{ type: 'GPU', value: '1' }] }))).toEqual([
      'in.json: task definition web cannot be imported:',
      'containerDefinitions[0].resourceRequirements: Forbidden: resourceRequirements is not supported: Berth does not schedule GPUs or inference accelerators',
    ]);
    expect(refusal(taskDefinition({ runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' } }))).toEqual([
      'in.json: task definition web cannot run on Berth: Berth runs Linux containers only',
      'runtimePlatform.operatingSystemFamily: Unsupported value: "WINDOWS_SERVER_2022_CORE"',
    ]);
  });

  test('describe-task-definition: a refusal names the fields under taskDefinition', () => {
    expect(refusal({ taskDefinition: taskDefinition({ volumes: [{ name: 'pipe', host: { sourcePath: 'C:\\ProgramData' } }] }) })).toEqual([
      'in.json: task definition web cannot run on Berth: Berth runs Linux containers only',
      'taskDefinition.volumes[0].host.sourcePath: "C:\\\\ProgramData" is a Windows path',
    ]);
    expect(refusal({ taskDefinition: taskDefinition({}, { resourceRequirements: [{ type: 'GPU', value: '1' }] }) })[1]).toMatch(
      /^taskDefinition\.containerDefinitions\[0\]\.resourceRequirements: Forbidden: /,
    );
  });

  test('a Linux runtimePlatform is left out with the schema’s reason', () => {
    expect(run(taskDefinition({ runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } })).lines).toEqual([
      'runtimePlatform: not imported: Berth runs Linux containers of the engine’s own architecture',
    ]);
  });

  test('a family missing, or with nothing to name it by', () => {
    expect(refusal({ containerDefinitions: [container] })).toEqual(['in.json: family: Required value: a task definition is named by its family']);
    expect(refusal({ ...taskDefinition(), family: 5 })).toEqual(['in.json: family: Invalid value: 5: must be a string']);
    expect(refusal({ ...taskDefinition(), family: '___' })).toEqual(['in.json: family: Invalid value: "___": no letter or digit to name a TaskDefinition by']);
  });
});

describe('services (describe-services)', () => {
  const service = {
    serviceArn: 'arn:aws:ecs:eu-west-1:1:service/prod/web',
    serviceName: 'web',
    clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/prod',
    loadBalancers: [{ targetGroupArn: 'arn:tg', containerName: 'web', containerPort: 80 }],
    status: 'ACTIVE',
    desiredCount: 4,
    runningCount: 4,
    pendingCount: 0,
    launchType: 'EC2',
    taskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/web:7',
    deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, maximumPercent: 200, minimumHealthyPercent: 50 },
    deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/web:7', rolloutState: 'COMPLETED' }],
    events: [{ id: '1', message: 'steady' }],
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone in [eu-west-1a, eu-west-1b]' }],
    placementStrategy: [
      { type: 'spread', field: 'attribute:ecs.availability-zone' },
      { type: 'binpack', field: 'MEMORY' },
    ],
    schedulingStrategy: 'REPLICA',
    healthCheckGracePeriodSeconds: 30,
  };

  test('the CreateService fields are imported; output-only ones and left-out ones are reported', () => {
    const { manifests, lines } = run({ services: [service], failures: [{ arn: 'arn:aws:ecs:eu-west-1:1:service/prod/gone', reason: 'MISSING' }] });
    expect(manifests).toEqual([
      {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: {
          cluster: 'prod',
          taskDefinition: 'web',
          desiredCount: 4,
          launchType: 'EC2',
          deploymentConfiguration: service.deploymentConfiguration,
          placementConstraints: service.placementConstraints,
          placementStrategy: [
            { type: 'spread', field: 'attribute:ecs.availability-zone' },
            { type: 'binpack', field: 'memory' },
          ],
          schedulingStrategy: 'REPLICA',
          healthCheckGracePeriodSeconds: 30,
        },
      },
    ]);
    expect(lines).toEqual([
      'failures[0]: not imported: ECS did not describe arn:aws:ecs:eu-west-1:1:service/prod/gone (MISSING)',
      'services[0].serviceArn: output-only, not imported: the ARN of the service in ECS',
      'services[0].status: output-only, not imported: the service was ACTIVE in ECS',
      'services[0].runningCount: output-only, not imported: running in ECS: 4',
      'services[0].pendingCount: output-only, not imported: pending in ECS: 0',
      'services[0].deployments: output-only, not imported: the deployments in ECS: PRIMARY web:7 COMPLETED',
      'services[0].events: output-only, not imported: 1 service events in ECS',
      'services[0].clusterArn: cluster prod: a Berth Cluster of that name runs the service (--cluster names another)',
      "services[0].taskDefinition: web: the family's latest revision; ECS's revision 7 is not pinned, as Berth numbers the revisions it registers itself (pin one as web:N once registered)",
      'services[0].loadBalancers: not imported: Berth has no load balancer integration yet',
    ]);
  });

  test('--cluster names the cluster; a DAEMON service takes no desiredCount; capacity providers name node groups', () => {
    const daemon = {
      ...service,
      schedulingStrategy: 'DAEMON',
      desiredCount: 3,
      placementStrategy: [],
      deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
      launchType: undefined,
      capacityProviderStrategy: [{ capacityProvider: 'Spot_Pool', weight: 1, base: 0 }],
    };
    const { manifests, lines } = run({ services: [daemon] }, { cluster: 'demo' });
    expect(manifests[0].spec).toMatchObject({
      cluster: 'demo',
      schedulingStrategy: 'DAEMON',
      capacityProviderStrategy: [{ capacityProvider: 'spot-pool', weight: 1, base: 0 }],
    });
    expect(manifests[0].spec.desiredCount).toBeUndefined();
    expect(lines).toEqual(
      expect.arrayContaining([
        'services[0].clusterArn: output-only, not imported: --cluster demo names the cluster',
        'services[0].desiredCount: output-only for a DAEMON service, not imported: ECS counted 3 instances; Berth runs one task per instance',
        'services[0].capacityProviderStrategy[0].capacityProvider: spot-pool: a node group of that name in Cluster demo takes these tasks',
      ]),
    );
  });

  test('a service the schema refuses is refused with the field; an EXTERNAL launch type too', () => {
    expect(refusal({ services: [{ ...service, launchType: 'EXTERNAL' }] })).toEqual([
      'in.json: service web cannot be imported:',
      'services[0].launchType: Forbidden: launchType EXTERNAL is not supported yet: hosts of your own run berth agent in a selfManaged node group; name that group in a capacityProviderStrategy to place tasks there',
    ]);
  });

  test('a service with no cluster needs --cluster', () => {
    const { clusterArn: _, ...withoutCluster } = service;
    expect(refusal({ services: [withoutCluster] })).toEqual([
      'in.json: services[0].clusterArn: the service names no ECS cluster: pass --cluster NAME (a Berth Cluster in the namespace)',
    ]);
  });
});
