/**
 * An ECS task definition as a Berth TaskDefinition (plus the ServiceAccount of its task role). Berth's schema keeps
 * ECS's field names, so most fields pass as they are and the embedded validator decides (schema-fit.ts); this module
 * maps what has a Berth counterpart of another shape: the family, ECS's cpu/memory strings, ARNs (task role, secrets,
 * registry credentials, S3 environment files), FireLens and awslogs log routing, volumes Berth cannot mount, tags.
 */
import { taskDefinitions, validatorFor } from '../api';
import { kubernetesName } from './names';
import { isObject, type JsonObject } from './read-input';
import { ImportError, type Report } from './report';
import { serviceAccountFor, roleArnAnnotation, type ServiceAccountManifest } from './roles';
import { fitToSchema, type Manifest } from './schema-fit';
import { describeSource, secretKeyRefOf, secretSource, type SecretKeys } from './secrets';
import { objectsOf, templatedStrings, withoutEmptyFields } from './json-values';
import { labelsOf } from './tags';

export interface ImportedTaskDefinition {
  taskDefinition: Manifest;
  serviceAccount?: ServiceAccountManifest;
}

/** Fields DescribeTaskDefinition prints that RegisterTaskDefinition does not take. */
const outputOnly: Record<string, string> = {
  taskDefinitionArn: 'the ARN ECS gave this revision',
  revision: 'Berth numbers the revisions of a family itself (status.revision)',
  status: 'Berth keeps it in status.status',
  requiresAttributes: 'the agent capabilities ECS derived from the definition',
  compatibilities: 'Berth derives them into status.compatibilities',
  registeredAt: 'when ECS registered the revision',
  registeredBy: 'who registered the revision in ECS',
  deregisteredAt: 'when ECS deregistered the revision',
};

/**
 * Rejected fields that leave the task unable to do its job, so the import is refused rather than the field left
 * out: GPUs and inference accelerators, and Windows' gMSA and FSx for Windows.
 */
const refusedFields = new Set(['resourceRequirements', 'inferenceAccelerators', 'credentialSpecs', 'fsxWindowsFileServerVolumeConfiguration']);

/**
 * Maps one task definition. `input` is the task definition object of the input (report paths are relative to
 * it); `tags` are DescribeTaskDefinition's top-level tags, if any, with the report their paths go under.
 */
export function importTaskDefinition(
  input: JsonObject,
  report: Report,
  secretKeys: SecretKeys,
  tags?: { value: unknown; report: Report },
): ImportedTaskDefinition {
  for (const [path, value] of templatedStrings(input)) {
    report.add(path, `${JSON.stringify(value)} holds a template placeholder, imported as it is: render the template first`);
  }
  const definition = withoutEmptyFields(input);
  for (const [field, why] of Object.entries(outputOnly)) {
    if (!(field in definition)) continue;
    report.add(field, `output-only, not imported: ${why}`);
    delete definition[field];
  }
  const { family, name } = familyAndName(definition.family, report);
  const windows = windowsProblems(definition);
  if (windows.length > 0) {
    throw new ImportError(
      `task definition ${family} cannot run on Berth: Berth runs Linux containers only`,
      windows.map((problem) => report.at(problem)),
    );
  }

  const labels = { ...labelsOf(definition.tags, report.under('tags')), ...(tags && labelsOf(tags.value, tags.report)) };
  delete definition.tags;
  taskSize(definition, report);
  compatibilities(definition, report);
  const serviceAccount = taskRole(definition, report);
  for (const [index, container] of objectsOf(definition.containerDefinitions)) {
    containerDefinition(container, report.under(`containerDefinitions[${index}]`), secretKeys);
  }
  for (const [index, volume] of objectsOf(definition.volumes)) volumeDefinition(volume, report.under(`volumes[${index}]`));

  // The family is the name users know; a name it cannot be keeps it in spec.family, which Berth registers under.
  if (name === family) delete definition.family;
  else {
    definition.family = family;
    report.add('family', `TaskDefinition ${name}: the family ${family} is not a Kubernetes name, so it stays in spec.family`);
  }
  const taskDefinition: Manifest = {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: { name, ...(Object.keys(labels).length > 0 && { labels }) },
    spec: definition,
  };
  const problems = fitToSchema(taskDefinition, validatorFor(taskDefinitions)!, report, (field) => refusedFields.has(field));
  if (problems.length > 0)
    throw new ImportError(
      `task definition ${family} cannot be imported:`,
      problems.map((p) => report.at(p)),
    );
  return { taskDefinition, ...(serviceAccount && { serviceAccount }) };
}

function familyAndName(family: unknown, report: Report): { family: string; name: string } {
  if (family === undefined || family === '') throw new ImportError(`${report.at('family')}: Required value: a task definition is named by its family`);
  if (typeof family !== 'string') throw new ImportError(`${report.at('family')}: Invalid value: ${JSON.stringify(family)}: must be a string`);
  const name = kubernetesName(family);
  if (!name) throw new ImportError(`${report.at('family')}: Invalid value: ${JSON.stringify(family)}: no letter or digit to name a TaskDefinition by`);
  return { family, name };
}

/** A Windows path: a drive (`C:\inetpub`) or a UNC or named-pipe path (`\\.\pipe\docker_engine`). */
const windowsPath = /^([A-Za-z]:[\\/]|\\\\)/;

/**
 * What makes the task definition a Windows one, each with its path: Berth runs Linux containers only, so such a
 * task definition is refused as a whole rather than imported without the part that makes it work.
 */
function windowsProblems(definition: JsonObject): string[] {
  const problems: string[] = [];
  const platform = definition.runtimePlatform;
  if (isObject(platform) && typeof platform.operatingSystemFamily === 'string' && platform.operatingSystemFamily.startsWith('WINDOWS')) {
    problems.push(`runtimePlatform.operatingSystemFamily: Unsupported value: ${JSON.stringify(platform.operatingSystemFamily)}`);
  }
  for (const [index, volume] of objectsOf(definition.volumes)) {
    const sourcePath = isObject(volume.host) ? volume.host.sourcePath : undefined;
    if (typeof sourcePath === 'string' && windowsPath.test(sourcePath)) {
      problems.push(`volumes[${index}].host.sourcePath: ${JSON.stringify(sourcePath)} is a Windows path`);
    }
  }
  for (const [index, container] of objectsOf(definition.containerDefinitions)) {
    for (const [option, value] of (Array.isArray(container.dockerSecurityOptions) ? container.dockerSecurityOptions : []).entries()) {
      if (typeof value === 'string' && value.startsWith('credentialspec:')) {
        problems.push(`containerDefinitions[${index}].dockerSecurityOptions[${option}]: ${JSON.stringify(value)} is a Windows gMSA credential spec`);
      }
    }
    for (const [mount, mountPoint] of objectsOf(container.mountPoints)) {
      if (typeof mountPoint.containerPath === 'string' && windowsPath.test(mountPoint.containerPath)) {
        problems.push(`containerDefinitions[${index}].mountPoints[${mount}].containerPath: ${JSON.stringify(mountPoint.containerPath)} is a Windows path`);
      }
    }
  }
  return problems;
}

/**
 * Task-level cpu and memory are strings in ECS's API, with or without units: "1024", "1 vCPU", "0.5 vcpu"; "2048",
 * "2 GB", "2GB". Berth takes integers in CPU units and MiB.
 *   e.g. "0.25 vCPU" → 256; "3 GB" → 3072; "512" → 512 (no report: that is ECS's own form).
 */
function taskSize(definition: JsonObject, report: Report): void {
  const units = { cpu: /^(\d+(?:\.\d+)?)\s*vcpu$/i, memory: /^(\d+(?:\.\d+)?)\s*gb$/i } as const;
  for (const field of ['cpu', 'memory'] as const) {
    const value = definition[field];
    if (typeof value !== 'string') continue;
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) definition[field] = Number(trimmed);
    const withUnit = units[field].exec(trimmed);
    if (withUnit) {
      definition[field] = Math.round(Number(withUnit[1]) * 1024);
      report.add(field, `${JSON.stringify(value)} read as ${String(definition[field])} ${field === 'cpu' ? 'CPU units' : 'MiB'}`);
    }
  }
}

/**
 * ECS Managed Instances are EC2 instances AWS runs for the cluster: in Berth, what a managed node group is, which
 * the EC2 compatibility covers.
 */
function compatibilities(definition: JsonObject, report: Report): void {
  const list = definition.requiresCompatibilities;
  if (!Array.isArray(list) || !list.includes('MANAGED_INSTANCES')) return;
  definition.requiresCompatibilities = [...new Set(list.map((c: unknown) => (c === 'MANAGED_INSTANCES' ? 'EC2' : c)))];
  report.add(
    `requiresCompatibilities[${list.indexOf('MANAGED_INSTANCES')}]`,
    'MANAGED_INSTANCES imported as EC2: the instances AWS manages for ECS are a managed node group in Berth',
  );
}

function taskRole(definition: JsonObject, report: Report): ServiceAccountManifest | undefined {
  const arn = definition.taskRoleArn;
  if (arn === undefined) return undefined;
  delete definition.taskRoleArn;
  const serviceAccount = typeof arn === 'string' ? serviceAccountFor(arn) : undefined;
  if (!serviceAccount) {
    report.add('taskRoleArn', `not imported: ${JSON.stringify(arn)} is not an IAM role ARN; set spec.taskRole to the ServiceAccount the task should run as`);
    return undefined;
  }
  definition.taskRole = serviceAccount.metadata.name;
  report.add(
    'taskRoleArn',
    `taskRole ${serviceAccount.metadata.name}: a ServiceAccount, emitted with the annotation ${roleArnAnnotation} (IAM roles for service accounts on EKS)`,
  );
  return serviceAccount;
}

/**
 * ECS log routing an import leaves out, and why; the task's logs then stay on its host. awsfirelens is ECS's own (the
 * schema refuses it). awslogs the schema accepts, Docker having a driver of that name, but a task imported with it
 * would not run as it did on ECS: Docker refuses ECS's awslogs-stream-prefix option (the ECS agent turns it into
 * awslogs-stream per task), the driver needs AWS credentials on every Docker host, and a Pod cannot use it, so the task
 * would wait for a Docker instance (src/ecs/compatibility/pod-plan.ts). Left out and reported, the task runs anywhere.
 */
const ecsLogDrivers: Record<string, string> = {
  awslogs:
    "Docker's awslogs driver needs AWS credentials on every host, does not know ECS's awslogs-stream-prefix, and keeps the task off Pod node groups; the logs stay on the host (docker logs, kubectl logs)",
  awsfirelens: 'Berth has no FireLens: run the log router as a sidecar container sharing a volume; the logs stay on the host (docker logs, kubectl logs)',
};

function containerDefinition(container: JsonObject, report: Report, secretKeys: SecretKeys): void {
  const log = container.logConfiguration;
  if (isObject(log) && typeof log.logDriver === 'string' && log.logDriver in ecsLogDrivers) {
    delete container.logConfiguration;
    report.add('logConfiguration', `${log.logDriver} not imported: ${ecsLogDrivers[log.logDriver]}`);
  }
  if (Array.isArray(container.secrets)) container.secrets = secrets(container.secrets, report, secretKeys);
  if (Array.isArray(container.environmentFiles)) container.environmentFiles = environmentFiles(container.environmentFiles, report);
  const credentials = container.repositoryCredentials;
  if (isObject(credentials) && typeof credentials.credentialsParameter === 'string') {
    const source = secretSource(credentials.credentialsParameter);
    const ref = source && secretKeyRefOf(source);
    if (source && ref) {
      credentials.credentialsParameter = ref.name;
      report.add(
        'repositoryCredentials.credentialsParameter',
        `Secret ${ref.name} of type kubernetes.io/dockerconfigjson: create it with the registry username and password of ${describeSource(source)}`,
      );
    }
  }
}

/** Each secret as a secretKeyRef (secrets.ts names the Secret key); one whose source is none of ECS's forms is left out. */
function secrets(list: unknown[], report: Report, secretKeys: SecretKeys): unknown[] {
  return list.filter((secret, index) => {
    if (!isObject(secret) || typeof secret.valueFrom !== 'string') return true; // the schema's to refuse
    const at = `secrets[${index}].valueFrom`;
    const source = secretSource(secret.valueFrom);
    const ref = source && secretKeyRefOf(source);
    if (!source || !ref) {
      report.add(
        at,
        `not imported (variable ${String(secret.name)}): ${JSON.stringify(secret.valueFrom)} is neither a Secrets Manager ARN, an SSM parameter ARN nor a parameter name`,
      );
      return false;
    }
    secretKeys.claim(ref, source, report.at(at));
    secret.valueFrom = { secretKeyRef: ref };
    report.add(at, `Secret ${ref.name} key ${ref.key}: create it from ${describeSource(source)}`);
    return true;
  });
}

/** `arn:aws:s3:::BUCKET/KEY`, the one type (s3) of ECS environment files. */
const s3ObjectArn = /^arn:[^:]+:s3:::([^/]+)\/(.+)$/;

/**
 * An S3 environment file becomes a Secret read whole as environment variables (envFrom): such files often hold
 * credentials, so a Secret rather than a ConfigMap. Named after the bucket and key.
 *   e.g. `arn:aws:s3:::bako-safe-env/bakosafe-prod.env` → Secret bako-safe-env-bakosafe-prod-env.
 */
function environmentFiles(list: unknown[], report: Report): unknown[] {
  return list.map((file, index) => {
    const object = isObject(file) && typeof file.value === 'string' ? s3ObjectArn.exec(file.value) : null;
    const name = object && kubernetesName(`${object[1]}-${object[2]}`);
    if (!isObject(file) || !object || !name) return file; // the schema's to refuse, with its hint
    report.add(
      `environmentFiles[${index}]`,
      `Secret ${name}: create it from the environment file s3://${object[1]}/${object[2]} (kubectl create secret generic ${name} --from-env-file=FILE)`,
    );
    return { secretRef: { name } };
  });
}

/**
 * Volumes Berth cannot mount (EFS, EBS configured at launch) keep their name, so the containers' mountPoints stay
 * valid, and become a directory that lives as long as the task: what the containers share, not what the file
 * system held.
 */
function volumeDefinition(volume: JsonObject, report: Report): void {
  const efs = volume.efsVolumeConfiguration;
  if (efs !== undefined) {
    delete volume.efsVolumeConfiguration;
    const fileSystem = isObject(efs) && typeof efs.fileSystemId === 'string' ? ` (file system ${efs.fileSystemId})` : '';
    report.add(
      'efsVolumeConfiguration',
      `not imported${fileSystem}: Berth has no EFS, so the volume is an empty directory for the task's life; for shared storage use a dockerVolumeConfiguration with an NFS volume driver`,
    );
  }
  if (volume.configuredAtLaunch !== undefined) {
    delete volume.configuredAtLaunch;
    report.add('configuredAtLaunch', "not imported: Berth attaches no EBS volume at launch, so the volume is an empty directory for the task's life");
  }
}
