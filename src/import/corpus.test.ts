// Every file of the ECS import corpus (test/fixtures/ecs-corpus) either imports into manifests the embedded
// store's validator accepts, with the content the mapping promises, or is refused with its exact message.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resourceTypeFor, validatorFor } from '../api';
import { importEcs, ImportError, type ImportResult, type Manifest } from '.';
import { corpusDir, corpusFiles, corpusPath, expectedManifests, expectedRefusals } from './testing/corpus';

function importFile(file: string): ImportResult {
  return importEcs(readFileSync(path.join(corpusDir, file), 'utf8'), `${corpusPath}/${file}`);
}

const imported = (file: string) => importFile(file).manifests as Manifest[];
const taskDefinitionOf = (file: string) => imported(file).find((m) => m.kind === 'TaskDefinition')!;
const reportOf = (file: string) => importFile(file).report.map((l) => `${l.path}: ${l.message}`);

test('the corpus holds every file the expectations name, and nothing else', () => {
  expect(corpusFiles).toEqual(Object.keys({ ...expectedManifests, ...expectedRefusals }).sort());
  expect(corpusFiles).toHaveLength(28);
});

describe.each(Object.entries(expectedManifests))('%s', (file, kindsAndNames) => {
  test('imports into manifests the embedded validator accepts', () => {
    const manifests = imported(file);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(kindsAndNames);
    for (const manifest of manifests) {
      // A ServiceAccount is a built-in kind: the API server checks it (the integration test).
      const type = resourceTypeFor(manifest.apiVersion, manifest.kind);
      const validator = type && validatorFor(type);
      if (validator) expect(validator.validate(validator.applyDefaults(manifest))).toEqual([]);
    }
  });
});

describe.each(Object.entries(expectedRefusals))('%s', (file, lines) => {
  test('is refused with the fields', () => {
    expect(() => importFile(file)).toThrow(ImportError);
    try {
      importFile(file);
    } catch (error) {
      expect([(error as ImportError).summary, ...(error as ImportError).problems]).toEqual(lines);
    }
  });
});

describe('what the corpus imports into', () => {
  test('01: Fargate with task cpu/memory strings as integers, ulimits null dropped, awslogs reported', () => {
    expect(taskDefinitionOf('01-fargate-wildfly-ulimits-null.json').spec).toEqual({
      memory: 1024,
      networkMode: 'awsvpc',
      cpu: 512,
      requiresCompatibilities: ['FARGATE'],
      containerDefinitions: [
        {
          portMappings: [
            { hostPort: 8080, containerPort: 8080, protocol: 'tcp' },
            { hostPort: 9990, containerPort: 9990, protocol: 'tcp' },
          ],
          essential: true,
          name: 'wildfly',
          image: 'jboss/wildfly',
          command: ['/opt/jboss/wildfly/bin/standalone.sh', '-bmanagement', '0.0.0.0', '-b', '0.0.0.0'],
          cpu: 512,
          memory: 1024,
        },
      ],
    });
    expect(reportOf('01-fargate-wildfly-ulimits-null.json')).toEqual([
      expect.stringMatching(/^containerDefinitions\[0\]\.logConfiguration: awslogs not imported: /),
    ]);
  });

  test('02: a camelCase family keeps its ECS name in spec.family; memory and memoryReservation, dockerLabels, entryPoint kept', () => {
    const td = taskDefinitionOf('02-ec2-host-network-consul-client.json');
    expect(td.metadata.name).toBe('consulclient');
    expect(td.spec).toMatchObject({
      family: 'consulClient',
      networkMode: 'host',
      containerDefinitions: [
        { memory: 256, memoryReservation: 64, dockerLabels: { Name: 'consulClient' }, entryPoint: ['/usr/local/bin/docker-entrypoint.sh'] },
      ],
    });
  });

  test('03: the dynamic host port stays without hostPort; empty volumes and constraints vanish', () => {
    const spec = taskDefinitionOf('03-ec2-bridge-nginx-dynamic-hostport.json').spec;
    expect(spec.containerDefinitions).toEqual([
      { name: 'nginx', image: 'nginx:latest', memory: 256, cpu: 256, essential: true, portMappings: [{ containerPort: 80, protocol: 'tcp' }] },
    ]);
    expect(Object.keys(spec).sort()).toEqual(['containerDefinitions', 'networkMode', 'requiresCompatibilities']);
  });

  test('04: numbers written as strings become numbers, each reported; links left out', () => {
    const td = taskDefinitionOf('04-ec2-bridge-links-numbers-as-strings.json');
    expect(td.spec.containerDefinitions).toEqual([
      {
        name: 'nginx',
        image: '<your nginx reverse proxy image URL here>',
        memory: 256,
        cpu: 256,
        essential: true,
        portMappings: [{ containerPort: 80, protocol: 'tcp' }],
      },
      { name: 'app', image: '<your app image URL here>', memory: 256, cpu: 256, essential: true },
    ]);
    expect(reportOf('04-ec2-bridge-links-numbers-as-strings.json')).toContain(
      'containerDefinitions[0].links: not imported: containers of a task reach each other through mapped ports or shared volumes',
    );
    expect(reportOf('04-ec2-bridge-links-numbers-as-strings.json')).toContain(
      'containerDefinitions[0].portMappings[0].containerPort: the string "80" read as the number 80',
    );
  });

  test('05: an empty host volume, volumesFrom and a non-essential container', () => {
    expect(taskDefinitionOf('05-ec2-empty-host-volume-volumesfrom.json').spec).toMatchObject({
      volumes: [{ name: 'my-vol', host: {} }],
      containerDefinitions: [
        { name: 'simple-app', mountPoints: [{ sourceVolume: 'my-vol', containerPath: '/var/www/my-vol' }] },
        { name: 'busybox', essential: false, volumesFrom: [{ sourceContainer: 'simple-app' }] },
      ],
    });
  });

  test('06: the task role ServiceAccount for IRSA, dependsOn HEALTHY and the envoy health check kept, App Mesh and FireLens reported', () => {
    const [serviceAccount, td] = imported('06-fargate-appmesh-proxy-firelens-healthcheck-ulimits.json');
    expect(serviceAccount).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'ecs-task-role', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::012345678910:role/ecs_task_role' } },
    });
    expect(td.spec).toMatchObject({
      taskRole: 'ecs-task-role',
      cpu: 1024,
      memory: 2048,
      containerDefinitions: [
        { name: 'log_router' },
        { name: 'app', dependsOn: [{ containerName: 'envoy', condition: 'HEALTHY' }] },
        {
          name: 'envoy',
          user: '1337',
          healthCheck: { interval: 5, timeout: 2, retries: 3 },
          ulimits: [{ name: 'nofile', hardLimit: 15000, softLimit: 15000 }],
        },
      ],
    });
    expect(td.spec.proxyConfiguration).toBeUndefined();
    expect(reportOf('06-fargate-appmesh-proxy-firelens-healthcheck-ulimits.json')).toEqual(
      expect.arrayContaining([
        'proxyConfiguration: not imported: Berth has no App Mesh',
        'containerDefinitions[0].firelensConfiguration: not imported: run a log router as a sidecar container sharing a volume',
        'executionRoleArn: not imported: the agent pulls images and reads secrets with its own credentials; use repositoryCredentials and secrets',
      ]),
    );
  });

  test('07: the describe-task-definition wrapper; the EFS volume stays as a task volume, reported under taskDefinition', () => {
    expect(taskDefinitionOf('07-taskdefinition-wrapper-efs-firelens-configfile.json').spec.volumes).toEqual([{ name: 'firelens-conf' }]);
    expect(reportOf('07-taskdefinition-wrapper-efs-firelens-configfile.json')).toContain(
      "taskDefinition.volumes[0].efsVolumeConfiguration: not imported (file system fs-c3c9bcbb): Berth has no EFS, so the volume is an empty directory for the task's life; for shared storage use a dockerVolumeConfiguration with an NFS volume driver",
    );
  });

  test('11: a bare SSM parameter name as a Secret key', () => {
    expect(taskDefinitionOf('11-ec2-bridge-sidecar-links-ssm-name-secret.json').spec.containerDefinitions).toMatchObject([
      { name: 'demo-app' },
      { name: 'cloudwatch-agent', secrets: [{ name: 'CW_CONFIG_CONTENT', valueFrom: { secretKeyRef: { name: 'ecs-cwagent-sidecar-ec2', key: 'value' } } }] },
    ]);
  });

  test('24: every secret form, tags as labels, ephemeral storage, the EBS volume as a task volume', () => {
    const td = taskDefinitionOf('24-fargate-secrets-ssm-secretsmanager-jsonkey-ebs-volume.json');
    expect(td.metadata.labels).toEqual({ TaskType: 'ecspresso-test' });
    expect(td.spec).toMatchObject({ cpu: 256, memory: 512, ephemeralStorage: { sizeInGiB: 50 }, volumes: [{ name: 'ebs' }], taskRole: 'ecstaskrole' });
    const ref = (name: string, key = 'value') => ({ secretKeyRef: { name, key } });
    expect(td.spec.containerDefinitions).toMatchObject([
      {
        secrets: [
          { name: 'FOO_SECRETS', valueFrom: ref('ecspresso-test-foo') },
          { name: 'BAR', valueFrom: ref('ecspresso-test-bar') },
          { name: 'BAZ', valueFrom: ref('ecspresso-test-baz') },
        ],
      },
      {
        secrets: [
          { name: 'FOO', valueFrom: ref('ecspresso-test-foo') },
          { name: 'BAR', valueFrom: ref('ecspresso-test-bar') },
          { name: 'JSON_FOO', valueFrom: ref('ecspresso-test-json', 'foo') },
        ],
      },
    ]);
    expect(reportOf('24-fargate-secrets-ssm-secretsmanager-jsonkey-ebs-volume.json')).toContain(
      'containerDefinitions[1].secrets[2].valueFrom: not imported (variable BAZ_ARN): "{{ secretsmanager_arn `ecspresso-test/baz` }}" is neither a Secrets Manager ARN, an SSM parameter ARN nor a parameter name',
    );
  });

  test('26: a registered task definition: output-only fields reported, the S3 environment file as a Secret, ARM64 reported', () => {
    const td = taskDefinitionOf('26-registered-taskdef-envfiles-arm64-fargate.json');
    expect(td.metadata.labels).toEqual({ environment: 'prod', nome: 'bako-safe-api-task' });
    expect(td.spec.containerDefinitions).toMatchObject([
      {
        environmentFiles: [{ secretRef: { name: 'bako-safe-env-bakosafe-prod-env' } }],
        portMappings: [{ name: 'port-3333', containerPort: 3333, hostPort: 3333, protocol: 'tcp' }],
      },
    ]);
    expect(reportOf('26-registered-taskdef-envfiles-arm64-fargate.json')).toEqual(
      expect.arrayContaining([
        'taskDefinitionArn: output-only, not imported: the ARN ECS gave this revision',
        'registeredBy: output-only, not imported: who registered the revision in ECS',
        'runtimePlatform: not imported: Berth runs Linux containers of the engine’s own architecture',
        'containerDefinitions[0].portMappings[0].appProtocol: not imported: Berth has no Service Connect',
      ]),
    );
  });

  test('27: describe-services: the service with its strategy, circuit breaker and placement; the rest reported', () => {
    expect(imported('27-describe-services-rollback-capacity-provider.json')[0].spec).toEqual({
      cluster: 'news-shared-branch-deploys-cluster-dc6652e7f5dab6d3',
      taskDefinition: 'news-thewest-pr713-web-app-task-definition',
      desiredCount: 2,
      capacityProviderStrategy: [{ capacityProvider: 'news-shared-branch-deploys-capacity-capacity-provider', weight: 100, base: 0 }],
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, maximumPercent: 200, minimumHealthyPercent: 100 },
      placementStrategy: [
        { type: 'spread', field: 'attribute:ecs.availability-zone' },
        { type: 'binpack', field: 'memory' },
      ],
      healthCheckGracePeriodSeconds: 0,
      schedulingStrategy: 'REPLICA',
    });
    expect(reportOf('27-describe-services-rollback-capacity-provider.json')).toEqual(
      expect.arrayContaining([
        'services[0].events: output-only, not imported: 99 service events in ECS',
        'services[0].loadBalancers: not imported: Berth has no load balancer integration yet',
        'services[0].networkConfiguration: not imported: Berth gives awsvpc tasks their own network namespace without subnets or security groups',
      ]),
    );
  });
});
