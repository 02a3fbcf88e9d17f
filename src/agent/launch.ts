import { serviceLabel, type Task, type TaskDefinitionSpec } from '../api';
import { overridesProblem, withOverrides } from '../ecs/revisions/overrides';
import type { KubeObject } from '../store/object-store';
import type { RegistryAuth, TaskLaunch } from './task-runtime';

/**
 * Turns a Task and its pinned revision into what the runtime needs: the revision's spec with the
 * task's overrides applied, and every secret resolved. Resolution happens in the agent, with the
 * agent's own credentials (the ECS instance role's job); values go to the runtime and nowhere else.
 */

export interface SecretSource {
  secret(name: string): (KubeObject & { type?: string; data?: Record<string, string> }) | undefined;
  configMap(name: string): (KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }) | undefined;
}

export class LaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LaunchError';
  }
}

const decode = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

/**
 * A value no environment variable can hold never reaches the engine: runc refuses it at start and
 * quotes the whole entry, value included, in the error that becomes the task's stoppedReason.
 */
function environmentValue(value: string, field: string, what: string): string {
  if (value.includes('\0')) throw new LaunchError(`${field}: ${what} contains a NUL byte, which an environment variable cannot hold`);
  return value;
}

/** Neither can a name with `=` or NUL: Docker refuses `=NAME=<value>` at create and echoes it, value included. */
function environmentName(name: string, field: string): string {
  if (name.includes('=') || name.includes('\0')) throw new LaunchError(`${field}: an environment variable name cannot contain "=" or a NUL byte`);
  return name;
}

function keyOf(source: SecretSource, kind: 'Secret' | 'ConfigMap', name: string, key: string, field: string): string {
  if (kind === 'Secret') {
    const secret = source.secret(name);
    if (!secret) throw new LaunchError(`${field}: Secret ${name} not found`);
    const value = secret.data?.[key];
    if (value === undefined) throw new LaunchError(`${field}: Secret ${name} has no key "${key}"`);
    return environmentValue(decode(value), field, `the value of Secret ${name} key "${key}"`);
  }
  const configMap = source.configMap(name);
  if (!configMap) throw new LaunchError(`${field}: ConfigMap ${name} not found`);
  const value = configMap.data?.[key] ?? (configMap.binaryData?.[key] !== undefined ? decode(configMap.binaryData[key]) : undefined);
  if (value === undefined) throw new LaunchError(`${field}: ConfigMap ${name} has no key "${key}"`);
  return environmentValue(value, field, `the value of ConfigMap ${name} key "${key}"`);
}

function allKeys(source: SecretSource, kind: 'Secret' | 'ConfigMap', name: string, field: string): Record<string, string> {
  if (kind === 'Secret') {
    const secret = source.secret(name);
    if (!secret) throw new LaunchError(`${field}: Secret ${name} not found`);
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, environmentValue(decode(v), field, `the value of Secret ${name} key "${k}"`)]),
    );
  }
  const configMap = source.configMap(name);
  if (!configMap) throw new LaunchError(`${field}: ConfigMap ${name} not found`);
  const all = { ...Object.fromEntries(Object.entries(configMap.binaryData ?? {}).map(([k, v]) => [k, decode(v)])), ...configMap.data };
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, environmentValue(v, field, `the value of ConfigMap ${name} key "${k}"`)]));
}

/** Environment files first, then secrets: as in ECS, an explicit secret wins over a file's variable. */
function resolveEnvironment(spec: TaskDefinitionSpec, source: SecretSource): Record<string, Record<string, string>> {
  const resolved: Record<string, Record<string, string>> = {};
  for (const container of spec.containerDefinitions) {
    const at = `containerDefinitions[${container.name}]`;
    const environment: Record<string, string> = {};
    (container.environmentFiles ?? []).forEach((file, index) => {
      const field = `${at}.environmentFiles[${index}]`;
      if (file.secretRef) Object.assign(environment, allKeys(source, 'Secret', file.secretRef.name, field));
      if (file.configMapRef) Object.assign(environment, allKeys(source, 'ConfigMap', file.configMapRef.name, field));
    });
    for (const secret of container.secrets ?? []) {
      const field = `${at}.secrets[${secret.name}]`;
      const variable = environmentName(secret.name, field);
      const { secretKeyRef, configMapKeyRef } = secret.valueFrom;
      if (secretKeyRef) environment[variable] = keyOf(source, 'Secret', secretKeyRef.name, secretKeyRef.key, field);
      if (configMapKeyRef) environment[variable] = keyOf(source, 'ConfigMap', configMapKeyRef.name, configMapKeyRef.key, field);
    }
    resolved[container.name] = environment;
  }
  return resolved;
}

/** The registry part of an image reference, as Docker's config.json keys it. */
export function registryOf(image: string): string {
  const first = image.split('/')[0];
  const looksLikeHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return looksLikeHost ? first : 'https://index.docker.io/v1/';
}

function resolveRegistryAuth(spec: TaskDefinitionSpec, source: SecretSource): Record<string, RegistryAuth> {
  const auth: Record<string, RegistryAuth> = {};
  for (const container of spec.containerDefinitions) {
    const name = container.repositoryCredentials?.credentialsParameter;
    if (!name) continue;
    const field = `containerDefinitions[${container.name}].repositoryCredentials`;
    const secret = source.secret(name);
    if (!secret || secret.type !== 'kubernetes.io/dockerconfigjson') {
      throw new LaunchError(`${field}: Secret ${name} of type kubernetes.io/dockerconfigjson not found`);
    }
    const config = dockerConfig(decode(secret.data?.['.dockerconfigjson'] ?? ''), `${field}: Secret ${name}`);
    const registry = registryOf(container.image);
    const entry = config.auths?.[registry] ?? config.auths?.[registry.replace(/^https?:\/\//, '')];
    if (!entry) throw new LaunchError(`${field}: Secret ${name} has no credentials for ${registry}`);
    const [username = '', password = ''] = entry.auth ? decode(entry.auth).split(/:(.*)/s) : [entry.username, entry.password];
    auth[container.name] = { username, password, serveraddress: registry };
  }
  return auth;
}

interface DockerConfig {
  auths?: Record<string, { username?: string; password?: string; auth?: string }>;
}

/** JSON.parse's own error quotes the text around the fault (`"{"auths":{"r… is not valid JSON`): credentials. */
function dockerConfig(text: string, where: string): DockerConfig {
  try {
    return (JSON.parse(text) ?? {}) as DockerConfig;
  } catch {
    throw new LaunchError(`${where}: .dockerconfigjson is not valid JSON`);
  }
}

export function buildLaunch(
  task: Task & { metadata: { uid?: string } },
  revisionSpec: TaskDefinitionSpec,
  source: SecretSource,
  publishAddress: string,
): TaskLaunch {
  const problem = overridesProblem(revisionSpec, task.spec.overrides, task.spec.taskDefinition);
  if (problem) throw new LaunchError(problem);
  const spec = withOverrides(revisionSpec, task.spec.overrides);
  return {
    taskUid: task.metadata.uid!,
    namespace: task.metadata.namespace!,
    taskName: task.metadata.name,
    cluster: task.spec.cluster,
    // The runtime labels containers with its own scope; a Fargate task has no instance.
    containerInstance: task.spec.containerInstance ?? task.spec.capacityProviderName ?? '',
    taskDefinition: task.spec.taskDefinition,
    spec,
    resolvedEnvironment: resolveEnvironment(spec, source),
    registryAuth: resolveRegistryAuth(spec, source),
    publishAddress,
    ...(task.metadata.labels?.[serviceLabel] !== undefined && { service: task.metadata.labels[serviceLabel] }),
    launchedBefore: task.status?.lastStatus !== undefined && task.status.lastStatus !== 'PROVISIONING',
  };
}
