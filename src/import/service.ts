/**
 * An ECS service, as `aws ecs describe-services` prints it, as a Berth Service. The fields CreateService takes pass
 * to the schema (schema-fit.ts reports what Berth leaves out, with the schema's reason); what describe-services adds
 * (deployments, events, counts, ARNs) is the state of the service in ECS, reported as output-only.
 */
import { services, validatorFor } from '../api';
import { objectsOf, withoutEmptyFields } from './json-values';
import { kubernetesName, serviceName } from './names';
import type { JsonObject } from './read-input';
import { ImportError, type Report } from './report';
import { fitToSchema, type Manifest } from './schema-fit';

export interface ServiceOptions {
  /** The Berth Cluster the service runs in; default: the cluster of the service's clusterArn. */
  cluster?: string;
}

/** Fields describe-services prints that CreateService does not take, and what each held. */
const outputOnly: Record<string, (value: unknown) => string> = {
  serviceArn: () => 'the ARN of the service in ECS',
  status: (value) => `the service was ${String(value)} in ECS`,
  runningCount: (value) => `running in ECS: ${String(value)}`,
  pendingCount: (value) => `pending in ECS: ${String(value)}`,
  deployments: (value) => `the deployments in ECS: ${deployments(value)}`,
  taskSets: () => 'the task sets of an external deployment controller in ECS',
  events: (value) => `${Array.isArray(value) ? value.length : 0} service events in ECS`,
  createdAt: (value) => `created in ECS at ${String(value)}`,
  createdBy: (value) => `created in ECS by ${String(value)}`,
  roleArn: () => "the service-linked role ECS used; Berth's operator acts with its own credentials",
  platformFamily: (value) => `the platform family ECS ran ${String(value)}`,
  currentServiceDeployment: () => 'the ARN of the current ECS service deployment',
  currentServiceRevisions: () => 'the ECS service revisions',
};

function deployments(value: unknown): string {
  return objectsOf(value)
    .map(([, d]) =>
      `${String(d.status)} ${String(d.taskDefinition).replace(/^.*task-definition\//, '')} ${typeof d.rolloutState === 'string' ? d.rolloutState : ''}`.trim(),
    )
    .join(', ');
}

/** `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` → NAME; a bare name stays. */
const clusterArn = /^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/(.+)$/;
/** `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`, `FAMILY:REVISION` or `FAMILY`. */
const taskDefinitionArn = /^(?:arn:[^:]+:ecs:[^:]*:[^:]*:task-definition\/)?([^:/]+)(?::(\d+))?$/;

export function importService(input: JsonObject, report: Report, options: ServiceOptions): Manifest {
  const service = withoutEmptyFields(input);
  const name = typeof service.serviceName === 'string' ? serviceName(service.serviceName) : undefined;
  if (!name) throw new ImportError(`${report.at('serviceName')}: Required value: a service needs a serviceName with a letter or digit`);
  if (name !== service.serviceName) report.add('serviceName', `Service ${name}: ${JSON.stringify(service.serviceName)} is not a Kubernetes name`);
  delete service.serviceName;
  for (const [field, describe] of Object.entries(outputOnly)) {
    if (!(field in service)) continue;
    report.add(field, `output-only, not imported: ${describe(service[field])}`);
    delete service[field];
  }
  const clusterName = cluster(service, report, options);
  taskDefinition(service, report);
  if (service.schedulingStrategy === 'DAEMON' && service.desiredCount !== undefined) {
    report.add(
      'desiredCount',
      `output-only for a DAEMON service, not imported: ECS counted ${JSON.stringify(service.desiredCount)} instances; Berth runs one task per instance`,
    );
    delete service.desiredCount;
  }
  placementStrategy(service);
  capacityProviders(service, clusterName, report);
  const manifest: Manifest = { apiVersion: 'berth.dev/v1alpha1', kind: 'Service', metadata: { name }, spec: { cluster: clusterName, ...service } };
  const problems = fitToSchema(manifest, validatorFor(services)!, report, () => false);
  if (problems.length > 0)
    throw new ImportError(
      `service ${name} cannot be imported:`,
      problems.map((p) => report.at(p)),
    );
  return manifest;
}

function cluster(service: JsonObject, report: Report, options: ServiceOptions): string {
  const arn = service.clusterArn;
  delete service.clusterArn;
  if (options.cluster !== undefined) {
    if (arn !== undefined) report.add('clusterArn', `output-only, not imported: --cluster ${options.cluster} names the cluster`);
    return options.cluster;
  }
  const fromArn = typeof arn === 'string' ? clusterArn.exec(arn) : null;
  const name = fromArn && kubernetesName(fromArn[1]);
  if (!name) throw new ImportError(`${report.at('clusterArn')}: the service names no ECS cluster: pass --cluster NAME (a Berth Cluster in the namespace)`);
  report.add('clusterArn', `cluster ${name}: a Berth Cluster of that name runs the service (--cluster names another)`);
  return name;
}

/**
 * Berth counts the revisions of a family itself, from 1, as it registers them: ECS's revision number names another
 * revision (or none) in Berth, so the service follows the family's latest revision.
 *   e.g. `arn:aws:ecs:ap-southeast-2:1:task-definition/web-app:2` → `web-app`.
 */
function taskDefinition(service: JsonObject, report: Report): void {
  const reference = typeof service.taskDefinition === 'string' ? taskDefinitionArn.exec(service.taskDefinition) : null;
  if (!reference) return; // the schema's to refuse, with the field
  const [, family, revision] = reference;
  service.taskDefinition = family;
  if (revision !== undefined) {
    report.add(
      'taskDefinition',
      `${family}: the family's latest revision; ECS's revision ${revision} is not pinned, as Berth numbers the revisions it registers itself (pin one as ${family}:N once registered)`,
    );
  }
}

/**
 * ECS prints placement strategy fields as it stores them, in capitals (`"field": "MEMORY"`), and takes them in any
 * case; Berth's schema takes `cpu`, `memory`, `instanceId` and `attribute:NAME` as documented.
 */
function placementStrategy(service: JsonObject): void {
  const canonical: Record<string, string> = { cpu: 'cpu', memory: 'memory', instanceid: 'instanceId', host: 'host' };
  for (const [, strategy] of objectsOf(service.placementStrategy)) {
    if (typeof strategy.field === 'string' && strategy.field.toLowerCase() in canonical) strategy.field = canonical[strategy.field.toLowerCase()];
  }
}

/**
 * Capacity providers name node groups of the Berth Cluster, and FARGATE its Fargate pool; Berth has one Fargate
 * pool, so FARGATE_SPOT runs there too.
 */
function capacityProviders(service: JsonObject, clusterName: string, report: Report): void {
  for (const [index, item] of objectsOf(service.capacityProviderStrategy)) {
    const provider = item.capacityProvider;
    if (typeof provider !== 'string') continue;
    const at = `capacityProviderStrategy[${index}].capacityProvider`;
    if (provider === 'FARGATE_SPOT') {
      item.capacityProvider = 'FARGATE';
      report.add(at, 'FARGATE_SPOT imported as FARGATE: Berth has one Fargate pool');
    } else if (provider !== 'FARGATE') {
      const nodeGroup = kubernetesName(provider, 63) ?? provider;
      item.capacityProvider = nodeGroup;
      report.add(at, `${nodeGroup}: a node group of that name in Cluster ${clusterName} takes these tasks`);
    }
  }
}
