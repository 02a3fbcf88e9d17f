/** ContainerInstance: one host of a cluster, registered by the agent that runs its tasks. */
import { createHash } from 'node:crypto';
import { boundedName, maxLabelValueLength } from '../../store/object-names';
import type { KubeObject } from '../../store/object-store';
import { age, defineKind } from '../kind';
import { rule, s, type Infer, type InferInput } from '../schema';
import { capacityProviderName, conditions, objectName, observedGeneration, timestamp } from './common';

const ports = (what: string) =>
  s
    .array(s.integer({ minimum: 1, maximum: 65535 }), { maxItems: 65535, set: true })
    .describe(what)
    .optional();

const resources = (what: string) =>
  s
    .object({
      cpu: s.integer({ minimum: 0 }).describe('CPU units (1024 = one vCPU).'),
      memory: s.integer({ minimum: 0 }).describe('Memory in MiB.'),
      ports: ports('TCP host ports.'),
      udpPorts: ports('UDP host ports.'),
    })
    .describe(what);

export const containerInstanceSpec = s.object({
  cluster: objectName()
    .describe('The Cluster the instance is registered to.')
    .withRules(rule({ cel: 'self == oldSelf', message: 'cluster is immutable', check: (self, oldSelf) => self === oldSelf })),
  nodeGroup: capacityProviderName().describe('The node group (capacity provider) the instance belongs to.').optional(),
  attributes: s
    .map(s.string({ maxLength: 128 }), { maxProperties: 128 })
    .describe('Attributes for placement, e.g. ecs.availability-zone, ecs.instance-type, and custom ones.')
    .optional(),
  registeredResources: resources('What the instance offers to tasks; reserved ports are those tasks cannot use.'),
  nodeName: objectName()
    .describe("The Kubernetes Node this instance mirrors (a node group of Nodes): Berth registers it, from the Node's allocatable and labels.")
    .withRules(rule({ cel: 'self == oldSelf', message: 'nodeName is immutable', check: (self, oldSelf) => self === oldSelf }))
    .optional(),
  status: s
    .enum(['ACTIVE', 'DRAINING'])
    .describe('DRAINING: no new tasks are placed, and service tasks are replaced elsewhere within their deployment limits.')
    .default('ACTIVE'),
});

export const containerInstanceStatus = s.object({
  status: s.enum(['ACTIVE', 'DRAINING', 'INACTIVE']).describe('INACTIVE once deregistered.').optional(),
  statusReason: s.string({ maxLength: 1024 }).describe('Why the instance has its status.').optional(),
  agentConnected: s.boolean().describe('Whether the agent reports in (its Lease is fresh).').optional(),
  lastHeartbeatTime: timestamp().describe("The agent's last report.").optional(),
  remainingResources: resources('What is left after the tasks placed on the instance.').optional(),
  reservedByOthers: resources(
    "On a Node: what its Pods that are not this cluster's tasks request (CPU, memory, host ports). Placement counts it as taken.",
  ).optional(),
  runningTasksCount: s.integer({ minimum: 0 }).describe('Tasks in RUNNING on the instance.').optional(),
  pendingTasksCount: s.integer({ minimum: 0 }).describe('Tasks in PENDING on the instance.').optional(),
  versionInfo: s
    .object({
      agentVersion: s.string({ maxLength: 128 }).describe('The Berth agent version.').optional(),
      dockerVersion: s.string({ maxLength: 128 }).describe('The Docker engine version.').optional(),
    })
    .describe('Versions of the software on the instance.')
    .optional(),
  observedGeneration: observedGeneration().optional(),
  conditions: conditions().optional(),
});

/**
 * On each instance's heartbeat Lease: the name of its ContainerInstance, hash-shortened to a label value's
 * 63 characters (`containerInstanceLeaseLabelValue`), since an instance's name can be as long as any object's.
 * Which instance a Lease belongs to is its controller owner reference; the label marks heartbeat Leases.
 */
export const containerInstanceLeaseLabel = 'berth.dev/container-instance';

export function containerInstanceLeaseLabelValue(instance: string): string {
  return boundedName(instance, maxLabelValueLength);
}

/** The heartbeat Lease of an instance, in its namespace: `berth-instance-<name>`, hash-shortened to fit an object name. */
export function instanceLeaseName(instance: string): string {
  const name = `berth-instance-${instance}`;
  return name.length <= 253 ? name : `${name.slice(0, 236)}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

export type ContainerInstanceSpec = Infer<typeof containerInstanceSpec>;
export type ContainerInstanceSpecInput = InferInput<typeof containerInstanceSpec>;
export type ContainerInstanceStatus = Infer<typeof containerInstanceStatus>;
export type InstanceResources = ContainerInstanceSpec['registeredResources'];

export interface ContainerInstance extends KubeObject {
  spec: ContainerInstanceSpec;
  status?: ContainerInstanceStatus;
}

export const containerInstanceKind = defineKind({
  kind: 'ContainerInstance',
  plural: 'containerinstances',
  singular: 'containerinstance',
  shortNames: ['bci'],
  description: 'A host registered to a cluster by its agent, which runs the tasks placed on it.',
  spec: containerInstanceSpec.describe('The registration of the instance, written by its agent.'),
  status: containerInstanceStatus.describe('The state of the instance and what it has left.'),
  printerColumns: [
    { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
    { name: 'Node Group', type: 'string', jsonPath: '.spec.nodeGroup' },
    { name: 'Status', type: 'string', jsonPath: '.status.status' },
    { name: 'Agent Connected', type: 'boolean', jsonPath: '.status.agentConnected' },
    { name: 'Running', type: 'integer', jsonPath: '.status.runningTasksCount' },
    { name: 'CPU Remaining', type: 'integer', jsonPath: '.status.remainingResources.cpu' },
    { name: 'Memory Remaining', type: 'integer', jsonPath: '.status.remainingResources.memory' },
    age,
    // -o wide: what placement strategies and memberOf most often read, and the Node it mirrors.
    { name: 'Zone', type: 'string', jsonPath: '.spec.attributes.ecs\\.availability-zone', priority: 1 },
    { name: 'Instance Type', type: 'string', jsonPath: '.spec.attributes.ecs\\.instance-type', priority: 1 },
    { name: 'Node', type: 'string', jsonPath: '.spec.nodeName', priority: 1 },
  ],
});
