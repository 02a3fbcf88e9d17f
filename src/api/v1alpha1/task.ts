/** Task: one run of a pinned task definition revision, by a service or standalone. */
import type { KubeObject } from '../../store/object-store';
import { age, defineKind } from '../kind';
import { rule, s, type Infer, type InferInput } from '../schema';
import {
  capacityProviderName,
  capacityProviderStrategy,
  conditions,
  launchType,
  launchTypeOrStrategy,
  launchTypesNotSupportedYet,
  objectName,
  observedGeneration,
  placementConstraints,
  placementStrategies,
  taskDefinitionReference,
  timestamp,
} from './common';

const immutable = (field: string) => rule<string>({ cel: 'self == oldSelf', message: `${field} is immutable`, check: (self, oldSelf) => self === oldSelf });

const containerOverride = s.object({
  name: s.string({ minLength: 1, maxLength: 255 }).describe('The container to override.'),
  command: s.array(s.string()).describe('Replaces the command.').optional(),
  environment: s
    .array(s.object({ name: s.string({ minLength: 1, maxLength: 255 }), value: s.string().optional() }), { maxItems: 1000 })
    .describe('Added to (and overriding) the environment.')
    .optional(),
  cpu: s.integer({ minimum: 0 }).describe('Replaces cpu.').optional(),
  memory: s.integer({ minimum: 6 }).describe('Replaces memory.').optional(),
  memoryReservation: s.integer({ minimum: 6 }).describe('Replaces memoryReservation.').optional(),
});

/**
 * ECS features this schema declares (and checks the shape of) that Berth does not implement yet.
 * Each is refused until the issue that implements it deletes its refusal here.
 */
const taskFeaturesNotSupportedYet = [...launchTypesNotSupportedYet<TaskSpec>()];

export const taskSpec = s
  .object({
    cluster: objectName().describe('The Cluster the task runs in.').withRules(immutable('cluster')),
    taskDefinition: taskDefinitionReference.revision().describe('The pinned revision `family:N` the task runs.').withRules(immutable('taskDefinition')),
    group: s.string({ maxLength: 255 }).describe('`service:NAME` for tasks of a service, `family:NAME` for standalone ones.').optional(),
    startedBy: s.string({ maxLength: 128 }).describe('Who started the task, e.g. the deployment id.').optional(),
    launchType: launchType().describe('EC2, FARGATE or EXTERNAL.').optional(),
    capacityProviderStrategy: capacityProviderStrategy()
      .describe('RunTask: how tasks are spread over capacity providers. Exclusive with launchType.')
      .optional(),
    capacityProviderName: capacityProviderName()
      .describe('The capacity provider the task was placed with: chosen by the scheduler from the strategy, set once.')
      .withRules(immutable('capacityProviderName'))
      .optional(),
    overrides: s
      .object({
        containerOverrides: s
          .array(containerOverride, { maxItems: 10, mapKeys: ['name'] })
          .describe('Per-container overrides.')
          .optional(),
        cpu: s.integer({ minimum: 128 }).describe('Replaces the task-level cpu.').optional(),
        memory: s.integer({ minimum: 128 }).describe('Replaces the task-level memory.').optional(),
        taskRole: objectName().describe('Replaces the task role (a ServiceAccount).').optional(),
      })
      .describe('Changes to the task definition for this task only.')
      .optional(),
    placementConstraints: placementConstraints().describe('RunTask: rules every placement of this task must satisfy.').optional(),
    placementStrategy: placementStrategies().describe('RunTask: how an instance is chosen, in order. Default: random.').optional(),
    containerInstance: objectName().describe('The ContainerInstance the task is bound to; set once by the scheduler.').optional(),
    desiredStatus: s
      .enum(['RUNNING', 'STOPPED'])
      .describe('RUNNING to run the task; STOPPED to stop it (ECS StopTask): its containers get SIGTERM, then SIGKILL after stopTimeout.')
      .withRules(
        rule({
          cel: "oldSelf != 'STOPPED' || self == 'STOPPED'",
          message: 'a stopped task cannot be started again: run a new task',
          check: (self, oldSelf) => oldSelf !== 'STOPPED' || self === 'STOPPED',
        }),
      )
      .default('RUNNING'),
  })
  .withRules(
    rule({
      cel: '!has(oldSelf.containerInstance) || (has(self.containerInstance) && self.containerInstance == oldSelf.containerInstance)',
      message: 'containerInstance cannot change once set',
      fieldPath: '.containerInstance',
      check: (self, oldSelf) => oldSelf.containerInstance === undefined || self.containerInstance === oldSelf.containerInstance,
    }),
    launchTypeOrStrategy<TaskSpec>(),
    ...taskFeaturesNotSupportedYet,
  );

const networkBinding = s.object({
  bindIP: s.string({ maxLength: 64 }).describe('The host address the port is bound to.').optional(),
  containerPort: s.integer({ minimum: 1, maximum: 65535 }).describe('The port in the container.'),
  hostPort: s.integer({ minimum: 1, maximum: 65535 }).describe('The port on the host.').optional(),
  protocol: s.enum(['tcp', 'udp']).describe('tcp or udp.').default('tcp'),
});

const healthStatus = () => s.enum(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);

const containerStatus = s.object({
  name: s.string({ minLength: 1, maxLength: 255 }).describe('The container name.'),
  runtimeId: s.string({ maxLength: 255 }).describe('The Docker container id.').optional(),
  lastStatus: s.enum(['PENDING', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED']).describe('The container lifecycle state.').optional(),
  exitCode: s.integer().describe('The exit code once STOPPED.').optional(),
  reason: s.string({ maxLength: 1024 }).describe('Why the container stopped or failed to start.').optional(),
  healthStatus: healthStatus().describe('The result of its health check (UNKNOWN without one).').optional(),
  networkBindings: s.array(networkBinding, { maxItems: 100 }).describe('Host ports the container ports are mapped to.').optional(),
});

export const taskStatus = s.object({
  lastStatus: s
    .enum(['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'])
    .describe('Where the task is in the ECS task lifecycle.')
    .optional(),
  desiredStatus: s.enum(['PENDING', 'RUNNING', 'STOPPED']).describe('Where the task is headed.').optional(),
  healthStatus: healthStatus().describe('HEALTHY when every essential container is running and healthy.').optional(),
  containers: s
    .array(containerStatus, { maxItems: 10, mapKeys: ['name'] })
    .describe('Per-container state.')
    .optional(),
  stopCode: s
    .enum(['TaskFailedToStart', 'EssentialContainerExited', 'UserInitiated', 'ServiceSchedulerInitiated', 'TerminationNotice'])
    .describe('Why the task stopped, as a code.')
    .optional(),
  stoppedReason: s.string({ maxLength: 1024 }).describe('Why the task stopped.').optional(),
  createdAt: timestamp().describe('When the task was created.').optional(),
  pullStartedAt: timestamp().describe('When the first image pull started.').optional(),
  pullStoppedAt: timestamp().describe('When the last image pull finished.').optional(),
  startedAt: timestamp().describe('When the task reached RUNNING.').optional(),
  stoppingAt: timestamp().describe('When the task began to stop.').optional(),
  stoppedAt: timestamp().describe('When the task reached STOPPED.').optional(),
  usage: s
    .object({
      cpuUnits: s.number({ minimum: 0 }).describe('Average CPU units used over the window (1024 per vCPU).'),
      memoryMiB: s.number({ minimum: 0 }).describe('Memory in use at its end, in MiB, without reclaimable page cache.'),
      windowSeconds: s.number({ minimum: 0 }).describe('The seconds the CPU average covers.'),
      sampledAt: timestamp().describe('When the window ended.'),
    })
    .describe("What the task's containers used, reported by its agent every metrics period while its service is auto scaled on CPU or memory.")
    .optional(),
  observedGeneration: observedGeneration().optional(),
  conditions: conditions().optional(),
});

/** Why the task was asked to stop (ECS StopTask's `reason`); the agent turns it into status.stoppedReason. */
export const stopReasonAnnotation = 'berth.dev/stop-reason';

/**
 * Set by Berth's scheduler when it binds a task, or once it has checked that a task bound at creation
 * (a DAEMON task, ECS StartTask) fits its instance: only then does the task reserve resources and may
 * the agent run it.
 */
export const admittedAnnotation = 'berth.dev/admitted';

export type TaskSpec = Infer<typeof taskSpec>;
export type TaskSpecInput = InferInput<typeof taskSpec>;
export type TaskStatus = Infer<typeof taskStatus>;
export type TaskContainerStatus = Infer<typeof containerStatus>;

export interface Task extends KubeObject {
  spec: TaskSpec;
  status?: TaskStatus;
}

export const taskKind = defineKind({
  kind: 'Task',
  plural: 'tasks',
  singular: 'task',
  shortNames: ['btask'],
  description: 'One run of a task definition revision: its containers on one container instance or on Fargate.',
  spec: taskSpec.describe('What to run, where.'),
  status: taskStatus.describe('The task lifecycle and its containers.'),
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
    { name: 'TaskDefinition', type: 'string', jsonPath: '.spec.taskDefinition' },
    { name: 'Last Status', type: 'string', jsonPath: '.status.lastStatus' },
    { name: 'Desired Status', type: 'string', jsonPath: '.status.desiredStatus' },
    { name: 'Health', type: 'string', jsonPath: '.status.healthStatus' },
    { name: 'Instance', type: 'string', jsonPath: '.spec.containerInstance' },
    age,
    // -o wide: whose it is, where it landed and, once stopped, why.
    { name: 'Group', type: 'string', jsonPath: '.spec.group', priority: 1 },
    { name: 'Capacity Provider', type: 'string', jsonPath: '.spec.capacityProviderName', priority: 1 },
    { name: 'Started', type: 'date', jsonPath: '.status.startedAt', priority: 1 },
    { name: 'Stopped Reason', type: 'string', jsonPath: '.status.stoppedReason', priority: 1 },
  ],
});
