/**
 * TaskDefinition: how to run 1..10 containers together, shaped like an ECS task definition so the
 * `containerDefinitions` of an existing one can be pasted in. ARNs become Kubernetes references.
 */
import type { KubeObject } from '../../store/object-store';
import { age, defineKind } from '../kind';
import { reject, rule, s, type Infer, type InferInput } from '../schema';
import { conditions, familyName, objectName, observedGeneration, placementConstraint } from './common';

const keyReference = (kind: string) =>
  s
    .object({
      name: objectName().describe(`Name of the ${kind} in the task definition's namespace.`),
      key: s.string({ minLength: 1, maxLength: 253 }).describe(`The key of the ${kind}'s data.`),
    })
    .describe(`A key of a ${kind}.`);

const objectReference = (kind: string) =>
  s.object({ name: objectName().describe(`Name of the ${kind} in the task definition's namespace.`) }).describe(`A ${kind}.`);

const portMapping = s.object(
  {
    containerPort: s.integer({ minimum: 1, maximum: 65535 }).describe('The port the container listens on.'),
    hostPort: s
      .integer({ minimum: 0, maximum: 65535 })
      .describe('The port on the host. Absent or 0 in bridge mode: a dynamic port. In host and awsvpc mode: absent or equal to containerPort.')
      .optional(),
    protocol: s.enum(['tcp', 'udp']).describe('tcp or udp.').default('tcp'),
    name: s.string({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$' }).describe('A name for the port mapping.').optional(),
  },
  {
    rejected: {
      containerPortRange: reject(s.string(), 'list each port as its own portMapping'),
      hostPortRange: reject(s.string(), 'list each port as its own portMapping'),
      appProtocol: reject(s.string(), 'Berth has no Service Connect'),
    },
  },
);

const keyValuePair = s.object({
  name: s.string({ minLength: 1, maxLength: 255 }).describe('The variable name.'),
  value: s.string().describe('The value.').optional(),
});

const environmentFile = s
  .object(
    {
      configMapRef: objectReference('ConfigMap').optional(),
      secretRef: objectReference('Secret').optional(),
    },
    { rejected: { value: reject(s.string(), 'an S3 ARN: use configMapRef or secretRef'), type: reject(s.string(), 'use configMapRef or secretRef') } },
  )
  .describe('Every key of a ConfigMap or Secret becomes an environment variable (ECS: an environment file in S3).')
  .withRules(
    rule({
      cel: 'has(self.configMapRef) != has(self.secretRef)',
      message: 'exactly one of configMapRef and secretRef is required',
      check: (self) => (self.configMapRef === undefined) !== (self.secretRef === undefined),
    }),
  );

const secret = s.object({
  name: s.string({ minLength: 1, maxLength: 255 }).describe('The environment variable the secret is exposed as.'),
  valueFrom: s
    .object({
      secretKeyRef: keyReference('Secret').optional(),
      configMapKeyRef: keyReference('ConfigMap').optional(),
    })
    .describe('Where the value comes from (ECS: a Secrets Manager or Parameter Store ARN).')
    .withRules(
      rule({
        cel: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
        message: 'exactly one of secretKeyRef and configMapKeyRef is required',
        check: (self) => (self.secretKeyRef === undefined) !== (self.configMapKeyRef === undefined),
      }),
    ),
});

const containerName = () => s.string({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_-]+$' });

const dependency = s.object({
  containerName: containerName().describe('The container this one waits for.'),
  condition: s
    .enum(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'])
    .describe('START: it started; COMPLETE: it exited; SUCCESS: it exited with 0; HEALTHY: its health check passed.'),
});

const healthCheck = s
  .object({
    command: s
      .array(s.string({ maxLength: 4096 }), { minItems: 1, maxItems: 64 })
      .describe('["CMD", exe, args...] or ["CMD-SHELL", "shell command"]; exit code 0 is healthy.')
      .withRules(
        rule({
          cel: "self[0] == 'CMD' || self[0] == 'CMD-SHELL'",
          message: 'must start with CMD or CMD-SHELL',
          check: (self) => self[0] === 'CMD' || self[0] === 'CMD-SHELL',
        }),
      ),
    interval: s.integer({ minimum: 5, maximum: 300 }).describe('Seconds between checks.').default(30),
    timeout: s.integer({ minimum: 2, maximum: 60 }).describe('Seconds a check may take before it counts as failed.').default(5),
    retries: s.integer({ minimum: 1, maximum: 10 }).describe('Consecutive failures before the container is unhealthy.').default(3),
    startPeriod: s.integer({ minimum: 0, maximum: 300 }).describe('Seconds after start during which failures do not count.').optional(),
  })
  .describe("The container's Docker health check.");

const mountPoint = s.object({
  sourceVolume: s.string({ minLength: 1, maxLength: 255 }).describe('The name of a volume of the task definition.'),
  containerPath: s.string({ minLength: 1, maxLength: 4096 }).describe('Where the volume is mounted in the container.'),
  readOnly: s.boolean().describe('Mount read-only.').default(false),
});

const volumeFrom = s.object({
  sourceContainer: containerName().describe('The container whose volumes are mounted.'),
  readOnly: s.boolean().describe('Mount read-only.').default(false),
});

const logConfiguration = s
  .object(
    {
      logDriver: s.enum(['json-file', 'local', 'syslog', 'journald', 'gelf', 'fluentd', 'splunk', 'awslogs', 'none']).describe('The Docker log driver.'),
      options: s.map(s.string(), { maxProperties: 64 }).describe('Options of the log driver.').optional(),
    },
    { rejected: { secretOptions: reject(s.array(s.anyObject()), 'give secrets to a log router sidecar through its secrets') } },
  )
  .describe("The container's Docker log configuration.");

const ulimit = s
  .object({
    name: s.enum(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']),
    softLimit: s.integer({ minimum: -1 }).describe('The soft limit.'),
    hardLimit: s.integer({ minimum: -1 }).describe('The hard limit.'),
  })
  .withRules(
    rule({
      cel: 'self.hardLimit == -1 || (self.softLimit != -1 && self.softLimit <= self.hardLimit)',
      message: 'softLimit must not exceed hardLimit',
      fieldPath: '.softLimit',
      check: (self) => self.hardLimit === -1 || (self.softLimit !== -1 && self.softLimit <= self.hardLimit),
    }),
  );

const unsupportedContainerFields = {
  links: reject(s.array(s.string()), 'containers of a task reach each other through mapped ports or shared volumes'),
  hostname: reject(s.string(), 'Berth does not set container hostnames'),
  dnsServers: reject(s.array(s.string()), 'Berth does not configure container DNS'),
  dnsSearchDomains: reject(s.array(s.string()), 'Berth does not configure container DNS'),
  extraHosts: reject(s.array(s.anyObject()), 'Berth does not configure container DNS'),
  disableNetworking: reject(s.boolean(), 'use networkMode none'),
  privileged: reject(s.boolean(), 'Berth runs no privileged containers'),
  readonlyRootFilesystem: reject(s.boolean(), 'Berth does not support it yet'),
  dockerSecurityOptions: reject(s.array(s.string()), 'Berth does not support it'),
  interactive: reject(s.boolean(), 'Berth does not attach to containers'),
  pseudoTerminal: reject(s.boolean(), 'Berth does not attach to containers'),
  linuxParameters: reject(s.anyObject(), 'Berth does not support Linux capabilities, devices or tmpfs; use volumes for shared storage'),
  firelensConfiguration: reject(s.anyObject(), 'run a log router as a sidecar container sharing a volume'),
  resourceRequirements: reject(s.array(s.anyObject()), 'Berth does not schedule GPUs or inference accelerators'),
  systemControls: reject(s.array(s.anyObject()), 'Berth does not set sysctls'),
  startTimeout: reject(s.integer(), 'Berth does not support it yet'),
  credentialSpecs: reject(s.array(s.string()), 'Berth runs Linux containers only'),
  restartPolicy: reject(s.anyObject(), 'an essential container that stops stops its task, which its service replaces'),
  versionConsistency: reject(s.string(), 'Berth pulls the image as named'),
};

const containerDefinition = s
  .object(
    {
      name: containerName().describe('The container name, unique in the task definition.'),
      image: s.string({ minLength: 1, maxLength: 1024 }).describe('The image, e.g. `nginx:1.27` or `registry.example/app@sha256:...`.'),
      command: s.array(s.string()).describe('The command (Docker CMD).').optional(),
      entryPoint: s.array(s.string()).describe('The entry point (Docker ENTRYPOINT).').optional(),
      essential: s.boolean().describe('When an essential container stops, the whole task stops. At least one container must be essential.').default(true),
      cpu: s.integer({ minimum: 0, maximum: 196608 }).describe('CPU units reserved for the container (1024 = one vCPU).').optional(),
      memory: s.integer({ minimum: 6 }).describe('Hard memory limit in MiB: the container is killed above it.').optional(),
      memoryReservation: s.integer({ minimum: 6 }).describe('Soft memory limit in MiB, reserved on the instance.').optional(),
      portMappings: s.array(portMapping, { maxItems: 100 }).describe('Ports the container exposes.').optional(),
      environment: s.array(keyValuePair, { maxItems: 1000 }).describe('Environment variables.').optional(),
      environmentFiles: s.array(environmentFile, { maxItems: 10 }).describe('ConfigMaps and Secrets whose keys become environment variables.').optional(),
      secrets: s.array(secret, { maxItems: 1000 }).describe('Environment variables from Secret or ConfigMap keys.').optional(),
      dependsOn: s.array(dependency, { maxItems: 10 }).describe('Containers that must reach a condition before this one starts.').optional(),
      healthCheck: healthCheck.optional(),
      mountPoints: s.array(mountPoint, { maxItems: 100 }).describe('Volumes of the task definition mounted into the container.').optional(),
      volumesFrom: s.array(volumeFrom, { maxItems: 10 }).describe('Other containers of the task whose volumes are mounted.').optional(),
      stopTimeout: s.integer({ minimum: 0, maximum: 120 }).describe('Seconds between SIGTERM and SIGKILL.').optional(),
      workingDirectory: s.string().describe('The working directory of the command.').optional(),
      user: s.string().describe('The user (name, uid, uid:gid, ...) the command runs as.').optional(),
      logConfiguration: logConfiguration.optional(),
      ulimits: s
        .array(ulimit, { maxItems: 15, mapKeys: ['name'] })
        .describe('Resource limits.')
        .optional(),
      dockerLabels: s.map(s.string()).describe('Docker labels added to the container.').optional(),
      repositoryCredentials: s
        .object({
          credentialsParameter: objectName().describe('A Secret of type kubernetes.io/dockerconfigjson (ECS: a Secrets Manager ARN).'),
        })
        .describe('Credentials of a private registry.')
        .optional(),
    },
    { rejected: unsupportedContainerFields },
  )
  .withRules(
    rule({
      cel: '!has(self.memory) || !has(self.memoryReservation) || self.memoryReservation <= self.memory',
      message: 'memoryReservation must not exceed memory',
      fieldPath: '.memoryReservation',
      check: (self) => self.memory === undefined || self.memoryReservation === undefined || self.memoryReservation <= self.memory,
    }),
    rule({
      cel: '!has(self.dependsOn) || self.dependsOn.all(d, d.containerName != self.name)',
      message: 'a container cannot depend on itself',
      fieldPath: '.dependsOn',
      check: (self) => (self.dependsOn ?? []).every((d) => d.containerName !== self.name),
    }),
    rule({
      cel: '!has(self.volumesFrom) || self.volumesFrom.all(v, v.sourceContainer != self.name)',
      message: 'a container cannot mount volumes from itself',
      fieldPath: '.volumesFrom',
      check: (self) => (self.volumesFrom ?? []).every((v) => v.sourceContainer !== self.name),
    }),
  );

const volume = s
  .object(
    {
      name: s.string({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_-]+$' }).describe('Referenced by mountPoints[].sourceVolume.'),
      host: s
        .object({ sourcePath: s.string({ minLength: 1, maxLength: 4096 }).describe('A path on the instance.').optional() })
        .describe('A bind mount. Without sourcePath, a directory that lives as long as the task.')
        .optional(),
      dockerVolumeConfiguration: s
        .object({
          scope: s.enum(['task', 'shared']).describe('task: removed with the task; shared: outlives it on the instance.').default('task'),
          autoprovision: s.boolean().describe('Create a shared volume that does not exist yet.').optional(),
          driver: s.string({ maxLength: 255 }).describe('The Docker volume driver.').optional(),
          driverOpts: s.map(s.string()).describe('Options of the volume driver.').optional(),
          labels: s.map(s.string()).describe('Labels of the Docker volume.').optional(),
        })
        .describe('A Docker volume.')
        .optional(),
    },
    {
      rejected: {
        efsVolumeConfiguration: reject(s.anyObject(), 'use a dockerVolumeConfiguration with an NFS volume driver'),
        fsxWindowsFileServerVolumeConfiguration: reject(s.anyObject(), 'Berth runs Linux containers only'),
        configuredAtLaunch: reject(s.boolean(), 'declare the volume in the task definition'),
      },
    },
  )
  .withRules(
    rule({
      cel: '!has(self.host) || !has(self.dockerVolumeConfiguration)',
      message: 'a volume is either host or dockerVolumeConfiguration',
      fieldPath: '.dockerVolumeConfiguration',
      reason: 'FieldValueForbidden',
      check: (self) => self.host === undefined || self.dockerVolumeConfiguration === undefined,
    }),
  );

/** ECS Fargate's valid task sizes: memory in MiB per cpu value, in steps of 1024 unless listed. */
const fargateSizes: Record<number, { min: number; max: number; values?: number[] }> = {
  256: { min: 512, max: 2048, values: [512, 1024, 2048] },
  512: { min: 1024, max: 4096 },
  1024: { min: 2048, max: 8192 },
  2048: { min: 4096, max: 16384 },
  4096: { min: 8192, max: 30720 },
};

/** Why cpu / memory is not a Fargate size, naming the sizes there are; undefined when it is one. */
export function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const size = fargateSizes[cpu];
  if (!size) return `cpu ${cpu} is not a Fargate size (${Object.keys(fargateSizes).join(', ')})`;
  if (isFargateSize(cpu, memory)) return undefined;
  const allowed = size.values ? size.values.join(', ') : `${size.min} to ${size.max} in steps of 1024`;
  return `memory ${memory} MiB does not go with cpu ${cpu} on Fargate (${allowed})`;
}

function isFargateSize(cpu: number, memory: number): boolean {
  const size = fargateSizes[cpu];
  if (!size) return false;
  if (size.values) return size.values.includes(memory);
  return memory >= size.min && memory <= size.max && memory % 1024 === 0;
}

const fargateSizeCel = Object.entries(fargateSizes)
  .map(([cpu, { min, max, values }]) =>
    values
      ? `(self.cpu == ${cpu} && self.memory in [${values.join(', ')}])`
      : `(self.cpu == ${cpu} && self.memory >= ${min} && self.memory <= ${max} && self.memory % 1024 == 0)`,
  )
  .join(' || ');

const requiresFargate = "has(self.requiresCompatibilities) && 'FARGATE' in self.requiresCompatibilities";

interface FargateFields {
  requiresCompatibilities?: string[];
}
const isFargate = (self: FargateFields) => (self.requiresCompatibilities ?? []).includes('FARGATE');

export const taskDefinitionSpec = s
  .object(
    {
      family: familyName()
        .describe(
          'The family whose revisions this object registers. Defaults to metadata.name (applied by the controller, as a schema default cannot read metadata).',
        )
        .optional(),
      containerDefinitions: s
        .array(containerDefinition, { minItems: 1, maxItems: 10, mapKeys: ['name'] })
        .describe('The containers of the task, as in an ECS task definition.'),
      cpu: s
        .integer({ minimum: 128, maximum: 196608 })
        .describe('CPU units of the whole task (1024 = one vCPU). Required for FARGATE. Integers only: ECS strings like "1 vCPU" are not accepted.')
        .optional(),
      // ECS takes any task memory on EC2 (its own CloudWatch agent sample asks for 64); 6 MiB is the least a
      // Docker memory limit can be, and Fargate's sizes (512 MiB and up) are checked with its cpu.
      memory: s
        .integer({ minimum: 6 })
        .describe('Memory of the whole task in MiB. Required for FARGATE. Integers only: ECS strings like "2 GB" are not accepted.')
        .optional(),
      networkMode: s
        .enum(['bridge', 'host', 'awsvpc', 'none'])
        .describe('bridge: a private network with mapped ports; host: the instance network; awsvpc: a network namespace per task; none: no network.')
        .default('bridge'),
      requiresCompatibilities: s
        .array(s.enum(['EC2', 'FARGATE', 'EXTERNAL']), { maxItems: 3, set: true })
        .describe('Launch types the task definition is validated for.')
        .optional(),
      volumes: s
        .array(volume, { maxItems: 20, mapKeys: ['name'] })
        .describe('Volumes the containers can mount.')
        .optional(),
      placementConstraints: s
        .array(placementConstraint(['memberOf']), { maxItems: 10 })
        .describe('Where tasks of this task definition may run.')
        .optional(),
      taskRole: objectName().describe('A ServiceAccount whose token the task receives (ECS: taskRoleArn).').optional(),
      ephemeralStorage: s
        .object({ sizeInGiB: s.integer({ minimum: 21, maximum: 200 }).describe('GiB of ephemeral storage of a FARGATE task.') })
        .describe('Ephemeral storage of a FARGATE task (default 20 GiB).')
        .optional(),
    },
    {
      rejected: {
        taskRoleArn: reject(s.string(), 'use taskRole, a ServiceAccount name'),
        executionRoleArn: reject(s.string(), 'the agent pulls images and reads secrets with its own credentials; use repositoryCredentials and secrets'),
        pidMode: reject(s.string(), 'Berth does not share process namespaces'),
        ipcMode: reject(s.string(), 'Berth does not share IPC namespaces'),
        proxyConfiguration: reject(s.anyObject(), 'Berth has no App Mesh'),
        inferenceAccelerators: reject(s.array(s.anyObject()), 'Berth does not schedule inference accelerators'),
        runtimePlatform: reject(s.anyObject(), 'Berth runs Linux containers of the engine’s own architecture'),
        enableFaultInjection: reject(s.boolean(), 'Berth does not support it'),
        tags: reject(s.array(s.anyObject()), 'use metadata.labels'),
        taskDefinitionArn: reject(s.string(), 'an output of DescribeTaskDefinition: remove it'),
        revision: reject(s.integer(), 'revisions are counted by Berth: see status.revision'),
        status: reject(s.string(), 'an output of DescribeTaskDefinition: see status.status'),
        requiresAttributes: reject(s.array(s.anyObject()), 'an output of DescribeTaskDefinition: remove it'),
        compatibilities: reject(s.array(s.string()), 'an output of DescribeTaskDefinition: use requiresCompatibilities'),
        registeredAt: reject(s.string(), 'an output of DescribeTaskDefinition: remove it'),
        registeredBy: reject(s.string(), 'an output of DescribeTaskDefinition: remove it'),
        deregisteredAt: reject(s.string(), 'an output of DescribeTaskDefinition: remove it'),
      },
    },
  )
  .withRules(
    rule({
      cel: 'self.containerDefinitions.exists(c, c.essential)',
      message: 'at least one container must be essential',
      fieldPath: '.containerDefinitions',
      check: (self) => self.containerDefinitions.some((c) => c.essential),
    }),
    rule({
      cel: 'self.containerDefinitions.all(c, !has(c.dependsOn) || c.dependsOn.all(d, self.containerDefinitions.exists(o, o.name == d.containerName)))',
      message: 'dependsOn must name a container of this task definition',
      fieldPath: '.containerDefinitions',
      check: (self) =>
        self.containerDefinitions.every((c) => (c.dependsOn ?? []).every((d) => self.containerDefinitions.some((o) => o.name === d.containerName))),
    }),
    rule({
      cel: 'self.containerDefinitions.all(c, !has(c.volumesFrom) || c.volumesFrom.all(v, self.containerDefinitions.exists(o, o.name == v.sourceContainer)))',
      message: 'volumesFrom must name a container of this task definition',
      fieldPath: '.containerDefinitions',
      check: (self) =>
        self.containerDefinitions.every((c) => (c.volumesFrom ?? []).every((v) => self.containerDefinitions.some((o) => o.name === v.sourceContainer))),
    }),
    rule({
      cel: 'self.containerDefinitions.all(c, !has(c.mountPoints) || c.mountPoints.all(m, has(self.volumes) && self.volumes.exists(v, v.name == m.sourceVolume)))',
      message: 'mountPoints[].sourceVolume must name a volume of this task definition',
      fieldPath: '.containerDefinitions',
      check: (self) => self.containerDefinitions.every((c) => (c.mountPoints ?? []).every((m) => (self.volumes ?? []).some((v) => v.name === m.sourceVolume))),
    }),
    rule({
      cel: 'has(self.memory) || self.containerDefinitions.all(c, has(c.memory) || has(c.memoryReservation))',
      message: 'every container needs memory or memoryReservation unless the task-level memory is set',
      fieldPath: '.containerDefinitions',
      check: (self) => self.memory !== undefined || self.containerDefinitions.every((c) => c.memory !== undefined || c.memoryReservation !== undefined),
    }),
    rule({
      cel: "!(self.networkMode in ['host', 'awsvpc']) || self.containerDefinitions.all(c, !has(c.portMappings) || c.portMappings.all(p, !has(p.hostPort) || p.hostPort == p.containerPort))",
      message: 'in host and awsvpc network mode, a hostPort must be absent or equal to its containerPort',
      fieldPath: '.containerDefinitions',
      check: (self) =>
        !['host', 'awsvpc'].includes(self.networkMode) ||
        self.containerDefinitions.every((c) => (c.portMappings ?? []).every((p) => p.hostPort === undefined || p.hostPort === p.containerPort)),
    }),
    rule({
      cel: "self.networkMode != 'none' || self.containerDefinitions.all(c, !has(c.portMappings) || size(c.portMappings) == 0)",
      message: 'in none network mode, containers have no portMappings',
      fieldPath: '.containerDefinitions',
      check: (self) => self.networkMode !== 'none' || self.containerDefinitions.every((c) => (c.portMappings ?? []).length === 0),
    }),
    rule({
      cel: `!(${requiresFargate}) || (has(self.cpu) && has(self.memory))`,
      message: 'FARGATE task definitions need task-level cpu and memory',
      fieldPath: '.cpu',
      reason: 'FieldValueRequired',
      check: (self) => !isFargate(self) || (self.cpu !== undefined && self.memory !== undefined),
    }),
    rule({
      cel: `!(${requiresFargate}) || !has(self.cpu) || self.cpu in [${Object.keys(fargateSizes).join(', ')}]`,
      message: `FARGATE supports cpu ${Object.keys(fargateSizes).join(', ')}`,
      fieldPath: '.cpu',
      check: (self) => !isFargate(self) || self.cpu === undefined || self.cpu in fargateSizes,
    }),
    rule({
      cel: `!(${requiresFargate}) || !has(self.cpu) || !has(self.memory) || !(self.cpu in [${Object.keys(fargateSizes).join(', ')}]) || ${fargateSizeCel}`,
      message:
        'invalid FARGATE cpu/memory pair: cpu 256 takes memory 512, 1024 or 2048; 512 takes 1024-4096; 1024 takes 2048-8192; 2048 takes 4096-16384; 4096 takes 8192-30720 (MiB, in steps of 1024)',
      fieldPath: '.memory',
      check: (self) =>
        !isFargate(self) || self.cpu === undefined || self.memory === undefined || !(self.cpu in fargateSizes) || isFargateSize(self.cpu, self.memory),
    }),
    rule({
      cel: `!(${requiresFargate}) || self.networkMode == 'awsvpc'`,
      message: 'FARGATE task definitions need networkMode awsvpc',
      fieldPath: '.networkMode',
      check: (self) => !isFargate(self) || self.networkMode === 'awsvpc',
    }),
    rule({
      cel: `!(${requiresFargate}) || !has(self.volumes) || self.volumes.all(v, !has(v.host) && !has(v.dockerVolumeConfiguration))`,
      message: 'FARGATE tasks cannot use host or Docker volumes; declare the volume with only a name to share a task-scoped directory',
      fieldPath: '.volumes',
      check: (self) => !isFargate(self) || (self.volumes ?? []).every((v) => v.host === undefined && v.dockerVolumeConfiguration === undefined),
    }),
  );

export const taskDefinitionStatus = s.object({
  family: familyName().describe('The family of the revisions (spec.family or metadata.name).').optional(),
  revision: s
    .integer({ minimum: 1 })
    .describe('The latest ACTIVE revision, what a bare `family` reference resolves to: `family:revision` names it.')
    .optional(),
  status: s
    .enum(['ACTIVE', 'INACTIVE'])
    .describe(
      'ACTIVE: services can use the family; INACTIVE: deregistered (the TaskDefinition is being deleted), its revisions kept while services or tasks still use them.',
    )
    .optional(),
  inactiveRevisions: s
    .array(s.integer({ minimum: 1 }), { set: true })
    .describe(
      'Deregistered revisions of the family still stored (`kubectl delete controllerrevision <family>-<N>` deregisters one): running services and tasks keep them, new ones cannot use them.',
    )
    .optional(),
  compatibilities: s
    .array(s.enum(['EC2', 'FARGATE']), { maxItems: 2, set: true })
    .describe("ECS's compatibilities of the latest revision: the launch types it can use (FARGATE needs awsvpc and a Fargate size).")
    .optional(),
  dataPlanes: s
    .array(
      s.object({
        name: s.enum(['Docker', 'Pod']).describe('Docker: a Docker engine (berth local, berth agent); Pod: a Kubernetes Node of a node group of Nodes.'),
        compatible: s.boolean().describe('Whether the data plane runs the latest revision as it is.'),
        field: s.string({ maxLength: 256 }).describe('The field that rules the data plane out.').optional(),
        reason: s.string({ maxLength: 1024 }).describe('Why the field rules it out.').optional(),
      }),
      { maxItems: 4, mapKeys: ['name'] },
    )
    .describe('Which data planes can run the latest revision; a task of it never lands on an instance of one that cannot.')
    .optional(),
  observedGeneration: observedGeneration().optional(),
  conditions: conditions().optional(),
});

export type TaskDefinitionSpec = Infer<typeof taskDefinitionSpec>;
export type TaskDefinitionSpecInput = InferInput<typeof taskDefinitionSpec>;
export type TaskDefinitionStatus = Infer<typeof taskDefinitionStatus>;
export type ContainerDefinition = TaskDefinitionSpec['containerDefinitions'][number];

export interface TaskDefinition extends KubeObject {
  spec: TaskDefinitionSpec;
  status?: TaskDefinitionStatus;
}

export const taskDefinitionKind = defineKind({
  kind: 'TaskDefinition',
  plural: 'taskdefinitions',
  singular: 'taskdefinition',
  shortNames: ['btd'],
  description: 'A family of ECS-style task definitions: every spec change registers a new immutable revision `family:N`.',
  spec: taskDefinitionSpec.describe('The task definition, as in ECS RegisterTaskDefinition.'),
  status: taskDefinitionStatus.describe('The latest registered revision.'),
  printerColumns: [
    { name: 'Family', type: 'string', jsonPath: '.status.family' },
    { name: 'Revision', type: 'integer', jsonPath: '.status.revision' },
    { name: 'Status', type: 'string', jsonPath: '.status.status' },
    { name: 'Inactive', type: 'string', jsonPath: '.status.inactiveRevisions' },
    age,
    // -o wide: the task size and where the latest revision can run.
    { name: 'CPU', type: 'integer', jsonPath: '.spec.cpu', priority: 1 },
    { name: 'Memory', type: 'integer', jsonPath: '.spec.memory', priority: 1 },
    { name: 'Network Mode', type: 'string', jsonPath: '.spec.networkMode', priority: 1 },
    { name: 'Compatibilities', type: 'string', jsonPath: '.status.compatibilities', priority: 1 },
  ],
});
