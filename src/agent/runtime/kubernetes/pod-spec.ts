/**
 * The Pod of one task: a pure translation of the task definition revision (with the task's overrides), so
 * every mapping is testable without a cluster. Only revisions `podIncompatibility` accepts get here; the
 * container layout (init containers, native sidecars, containers) is `podContainerPlan`'s.
 *
 *   cpu units → millicores (1024 units = 1000m; 256 → 250m), a request only: ECS imposes no CPU limit
 *     on a container;
 *   memory → the memory limit, memoryReservation (else memory) → the request;
 *   task-level cpu / memory → pod-level resources (requests and limits: ECS enforces a task's size) where
 *     the API server has them, else spread over the containers that set none (task memory 1024 over two
 *     containers of which one reserves 256: the other gets 768);
 *   portMappings: bridge static hostPort → hostPort, bridge hostPort 0 or absent → the host port Berth
 *     allocated on the node, awsvpc → the Pod's own IP, host → hostNetwork;
 *   healthCheck → an exec readiness probe (never a liveness probe: ECS replaces an unhealthy task, it does
 *     not restart a container in place);
 *   stopTimeout → terminationGracePeriodSeconds (the longest; ECS's default 30 s);
 *   volumes → emptyDir, host sourcePath → hostPath; secrets → secretKeyRef / configMapKeyRef, never values;
 *   taskRole → serviceAccountName (no token without one); repositoryCredentials → imagePullSecrets.
 *
 * The Pod never restarts a container (restartPolicy Never; native sidecars are the exception Kubernetes
 * requires, and an essential one that exits still stops the task, which Berth reads from its status).
 */
import { createHash } from 'node:crypto';
import type { V1Container, V1EnvVar, V1Pod, V1Probe, V1ResourceRequirements, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ContainerDefinition, TaskDefinitionSpec } from '../../../api';
import { podLabels } from '../../../ecs/pods';
import { isIncompatibility, numericUser, podContainerPlan } from '../../../ecs/compatibility';
import { boundedName, maxLabelValueLength } from '../../../store/object-names';

/** Pod container name → ECS container name, on Pods where any of the two differ (see podName). */
export const containerNamesAnnotation = 'berth.dev/container-names';
export const taskDefinitionAnnotation = 'berth.dev/task-definition';

/** How a node group (or a Fargate profile) has its Pods scheduled and isolated. */
export interface PodScheduling {
  tolerations?: V1Toleration[];
  nodeSelector?: Record<string, string>;
  schedulerName?: string;
  runtimeClassName?: string;
}

export interface PodLaunch {
  task: { namespace: string; name: string; uid: string };
  cluster: string;
  service?: string;
  /** `family:N`. */
  taskDefinition: string;
  /** The revision's spec with the task's overrides applied. */
  spec: TaskDefinitionSpec;
  /** The Node Berth placed the task on; absent for a Fargate task, which the profile's scheduler places. */
  nodeName?: string;
  /** Host ports Berth allocated on the node for bridge mappings without one: container → `port/protocol` → host port. */
  allocatedHostPorts?: Record<string, Record<string, number>>;
  /** Whether the API server takes pod-level resources (spec.resources), for task-level cpu and memory. */
  podLevelResources: boolean;
  scheduling?: PodScheduling;
  /** A Fargate task: its ephemeralStorage applies (ECS ignores the field elsewhere). */
  fargate?: boolean;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes name (a DNS label) for an ECS container or volume name, which may hold capitals and `_`. */
export function podName(ecsName: string): string {
  if (ecsName.length <= 63 && dnsLabel.test(ecsName)) return ecsName;
  const base = ecsName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54)
    .replace(/-+$/, '');
  const hash = createHash('sha256').update(ecsName).digest('hex').slice(0, 8);
  return base ? `${base}-${hash}` : `c-${hash}`;
}

export function hostPortKey(containerPort: number, protocol: 'tcp' | 'udp'): string {
  return `${containerPort}/${protocol}`;
}

export function millicores(cpuUnits: number): string {
  return `${Math.max(1, Math.round((cpuUnits * 1000) / 1024))}m`;
}

const mebibytes = (mib: number) => `${mib}Mi`;
const defaultStopTimeout = 30;

export function taskPod(launch: PodLaunch): V1Pod {
  const { spec } = launch;
  const plan = podContainerPlan(spec);
  if (isIncompatibility(plan)) throw new Error(`${plan.field}: ${plan.reason}`);
  const definitions = new Map(spec.containerDefinitions.map((c) => [c.name, c]));
  const shares = taskLevelShares(launch);
  const container = (name: string, role: 'init' | 'sidecar' | 'container', healthGated = false): V1Container =>
    containerSpec(launch, definitions.get(name)!, role, healthGated, shares.get(name));
  const [family, revision] = launch.taskDefinition.split(':');
  const renamed = spec.containerDefinitions.filter((c) => podName(c.name) !== c.name);
  const credentials = [...new Set(spec.containerDefinitions.flatMap((c) => (c.repositoryCredentials ? [c.repositoryCredentials.credentialsParameter] : [])))];
  const scheduling = launch.scheduling ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: launch.task.name,
      namespace: launch.task.namespace,
      labels: {
        [podLabels.cluster]: boundedName(launch.cluster, maxLabelValueLength),
        ...(launch.service !== undefined && { [podLabels.service]: launch.service }),
        [podLabels.family]: boundedName(family, maxLabelValueLength),
        [podLabels.revision]: revision,
        [podLabels.taskUid]: launch.task.uid,
      },
      annotations: {
        [taskDefinitionAnnotation]: launch.taskDefinition,
        ...(renamed.length > 0 && { [containerNamesAnnotation]: JSON.stringify(Object.fromEntries(renamed.map((c) => [podName(c.name), c.name]))) }),
      },
      ownerReferences: [
        { apiVersion: 'berth.dev/v1alpha1', kind: 'Task', name: launch.task.name, uid: launch.task.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      ...(launch.nodeName !== undefined && { nodeName: launch.nodeName }),
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: Math.max(...spec.containerDefinitions.map((c) => c.stopTimeout ?? defaultStopTimeout)),
      // ECS injects no variables for other services; Kubernetes would add one set per Service in the namespace.
      enableServiceLinks: false,
      ...(spec.networkMode === 'host' && { hostNetwork: true }),
      ...(spec.taskRole !== undefined ? { serviceAccountName: spec.taskRole } : { automountServiceAccountToken: false }),
      ...(credentials.length > 0 && { imagePullSecrets: credentials.map((name) => ({ name })) }),
      ...(scheduling.tolerations?.length && { tolerations: scheduling.tolerations }),
      ...(scheduling.nodeSelector && { nodeSelector: scheduling.nodeSelector }),
      ...(scheduling.schedulerName !== undefined && { schedulerName: scheduling.schedulerName }),
      ...(scheduling.runtimeClassName !== undefined && { runtimeClassName: scheduling.runtimeClassName }),
      ...(launch.podLevelResources && taskLevelResources(spec)),
      ...publishedFromContainers(
        plan.initContainers.map((c) => container(c.name, c.role, c.healthGated)),
        plan.containers.map((name) => container(name, 'container')),
      ),
      ...((spec.volumes ?? []).length > 0 && { volumes: (spec.volumes ?? []).map(podVolume) }),
    },
  };
}

/**
 * The kubelet publishes the host ports of a Pod's regular containers only (the sandbox's port mappings
 * are made from spec.containers), never those of init containers, native sidecars included. A sidecar's
 * host ports (a dependsOn START/HEALTHY target in bridge mode) are therefore declared on the first regular
 * container, which shares the Pod's network namespace, so the same DNAT reaches the sidecar's port; the
 * sidecar keeps the container port alone, and observation finds its host port by port and protocol:
 *   e.g. web (sidecar) 8080 → host 49153, log-shipper regular: log-shipper declares 8080/TCP → 49153.
 */
function publishedFromContainers(initContainers: V1Container[], containers: V1Container[]): Pick<V1Pod['spec'] & object, 'initContainers' | 'containers'> {
  const moved: NonNullable<V1Container['ports']> = [];
  const init = initContainers.map((c) => {
    if (c.restartPolicy !== 'Always' || !c.ports?.some((p) => p.hostPort !== undefined)) return c;
    moved.push(...c.ports.filter((p) => p.hostPort !== undefined));
    return { ...c, ports: c.ports.map(({ hostPort: _hostPort, ...port }) => port) };
  });
  const regular = moved.length > 0 ? [{ ...containers[0], ports: [...(containers[0].ports ?? []), ...moved] }, ...containers.slice(1)] : containers;
  return { ...(init.length > 0 && { initContainers: init }), containers: regular };
}

/** Pod-level requests and limits from the task-level cpu and memory. */
function taskLevelResources(spec: TaskDefinitionSpec): { resources?: V1ResourceRequirements } {
  const amounts: Record<string, string> = {
    ...(spec.cpu !== undefined && { cpu: millicores(spec.cpu) }),
    ...(spec.memory !== undefined && { memory: mebibytes(spec.memory) }),
  };
  return Object.keys(amounts).length > 0 ? { resources: { requests: amounts, limits: amounts } } : {};
}

interface TaskLevelShare {
  cpu?: number;
  memory?: number;
}

/**
 * Without pod-level resources, the task's cpu and memory go to the containers that set none, in equal
 * parts of what the others leave: task cpu 1024 over containers of 256, unset, unset → 384 each.
 */
function taskLevelShares(launch: PodLaunch): Map<string, TaskLevelShare> {
  const shares = new Map<string, TaskLevelShare>();
  const { spec } = launch;
  if (launch.podLevelResources) return shares;
  const split = (total: number | undefined, own: (c: ContainerDefinition) => number | undefined, key: keyof TaskLevelShare) => {
    if (total === undefined) return;
    const without = spec.containerDefinitions.filter((c) => own(c) === undefined);
    if (without.length === 0) return;
    const left = Math.max(0, total - spec.containerDefinitions.reduce((sum, c) => sum + (own(c) ?? 0), 0));
    const each = Math.floor(left / without.length);
    for (const c of without) if (each > 0) shares.set(c.name, { ...shares.get(c.name), [key]: each });
  };
  split(spec.cpu, (c) => c.cpu, 'cpu');
  split(spec.memory, (c) => c.memoryReservation ?? c.memory, 'memory');
  return shares;
}

function containerSpec(
  launch: PodLaunch,
  definition: ContainerDefinition,
  role: 'init' | 'sidecar' | 'container',
  healthGated: boolean,
  share?: TaskLevelShare,
): V1Container {
  const probe = definition.healthCheck && execProbe(definition.healthCheck);
  const user = definition.user !== undefined ? numericUser.exec(definition.user) : null;
  return {
    name: podName(definition.name),
    image: definition.image,
    // The ECS agent pulls, and runs the cached image when the pull fails; Kubernetes' closest is IfNotPresent.
    imagePullPolicy: 'IfNotPresent',
    ...(definition.entryPoint !== undefined && { command: definition.entryPoint }),
    ...(definition.command !== undefined && { args: definition.command }),
    ...(definition.workingDirectory !== undefined && { workingDir: definition.workingDirectory }),
    ...environment(definition),
    ...ports(launch, definition),
    resources: containerResources(launch, definition, share),
    ...(probe && role !== 'init' && { readinessProbe: probe }),
    ...(probe && healthGated && definition.healthCheck && { startupProbe: startupProbe(probe, definition.healthCheck) }),
    ...(role === 'sidecar' && { restartPolicy: 'Always' }),
    ...volumeMounts(launch.spec, definition),
    ...(user && { securityContext: { runAsUser: Number(user[1]), ...(user[2] !== undefined && { runAsGroup: Number(user[2]) }) } }),
  };
}

/** Plain variables, then variables from secrets (which win on a clash, as on Docker); environment files as envFrom. */
function environment(definition: ContainerDefinition): Pick<V1Container, 'env' | 'envFrom'> {
  const fromSecrets = new Set((definition.secrets ?? []).map((s) => s.name));
  const env: V1EnvVar[] = [
    ...(definition.environment ?? []).filter((v) => !fromSecrets.has(v.name)).map((v) => ({ name: v.name, value: v.value ?? '' })),
    ...(definition.secrets ?? []).map((s) => ({
      name: s.name,
      valueFrom: s.valueFrom.secretKeyRef
        ? { secretKeyRef: { name: s.valueFrom.secretKeyRef.name, key: s.valueFrom.secretKeyRef.key } }
        : { configMapKeyRef: { name: s.valueFrom.configMapKeyRef!.name, key: s.valueFrom.configMapKeyRef!.key } },
    })),
  ];
  const envFrom = (definition.environmentFiles ?? []).map((file) =>
    file.secretRef ? { secretRef: { name: file.secretRef.name } } : { configMapRef: { name: file.configMapRef!.name } },
  );
  return { ...(env.length > 0 && { env }), ...(envFrom.length > 0 && { envFrom }) };
}

function ports(launch: PodLaunch, definition: ContainerDefinition): Pick<V1Container, 'ports'> {
  const mappings = definition.portMappings ?? [];
  if (mappings.length === 0) return {};
  return {
    ports: mappings.map((mapping) => {
      const protocol = mapping.protocol === 'udp' ? 'UDP' : 'TCP';
      let hostPort: number | undefined;
      if (launch.spec.networkMode === 'bridge') {
        hostPort = mapping.hostPort || launch.allocatedHostPorts?.[definition.name]?.[hostPortKey(mapping.containerPort, mapping.protocol)];
        if (hostPort === undefined) {
          throw new Error(`no host port allocated for ${definition.name} ${hostPortKey(mapping.containerPort, mapping.protocol)}`);
        }
      }
      return { containerPort: mapping.containerPort, protocol, ...(hostPort !== undefined && { hostPort }) };
    }),
  };
}

function containerResources(launch: PodLaunch, definition: ContainerDefinition, share: TaskLevelShare = {}): V1ResourceRequirements {
  const cpu = definition.cpu || share.cpu;
  const requestMemory = definition.memoryReservation ?? definition.memory ?? share.memory;
  const limitMemory = definition.memory ?? (definition.memoryReservation === undefined ? share.memory : undefined);
  const storage = launch.fargate && launch.spec.ephemeralStorage ? fargateStorageShare(launch.spec) : undefined;
  const requests: Record<string, string> = {
    ...(cpu ? { cpu: millicores(cpu) } : {}),
    ...(requestMemory !== undefined && { memory: mebibytes(requestMemory) }),
  };
  const limits: Record<string, string> = {
    ...(limitMemory !== undefined && { memory: mebibytes(limitMemory) }),
    ...(storage !== undefined && { 'ephemeral-storage': mebibytes(storage) }),
  };
  return { ...(Object.keys(requests).length > 0 && { requests }), ...(Object.keys(limits).length > 0 && { limits }) };
}

/** A Fargate task's ephemeral storage, in equal parts per container (the kubelet limits containers, not Pods). */
function fargateStorageShare(spec: TaskDefinitionSpec): number {
  return Math.floor((spec.ephemeralStorage!.sizeInGiB * 1024) / spec.containerDefinitions.length);
}

function execProbe(check: NonNullable<ContainerDefinition['healthCheck']>): V1Probe {
  const [kind, ...rest] = check.command;
  return {
    exec: { command: kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest },
    periodSeconds: check.interval,
    timeoutSeconds: check.timeout,
    failureThreshold: check.retries,
    successThreshold: 1,
  };
}

/** Healthy once within startPeriod plus retries checks, as Docker counts: startPeriod 10, interval 5, retries 3 → 5 tries. */
function startupProbe(probe: V1Probe, check: NonNullable<ContainerDefinition['healthCheck']>): V1Probe {
  return { ...probe, failureThreshold: check.retries + Math.ceil((check.startPeriod ?? 0) / check.interval) };
}

function podVolume(volume: NonNullable<TaskDefinitionSpec['volumes']>[number]): V1Volume {
  const name = podName(volume.name);
  if (volume.host?.sourcePath !== undefined) return { name, hostPath: { path: volume.host.sourcePath, type: 'DirectoryOrCreate' } };
  return { name, emptyDir: {} };
}

/** mountPoints, then the mounts of every volumesFrom source (read-only when either says so). */
function volumeMounts(spec: TaskDefinitionSpec, definition: ContainerDefinition): Pick<V1Container, 'volumeMounts'> {
  const mounts: V1VolumeMount[] = (definition.mountPoints ?? []).map((m) => ({
    name: podName(m.sourceVolume),
    mountPath: m.containerPath,
    readOnly: m.readOnly,
  }));
  for (const from of definition.volumesFrom ?? []) {
    const source = spec.containerDefinitions.find((c) => c.name === from.sourceContainer);
    for (const m of source?.mountPoints ?? []) {
      if (mounts.some((existing) => existing.mountPath === m.containerPath)) continue;
      mounts.push({ name: podName(m.sourceVolume), mountPath: m.containerPath, readOnly: from.readOnly || m.readOnly });
    }
  }
  return mounts.length > 0 ? { volumeMounts: mounts } : {};
}
