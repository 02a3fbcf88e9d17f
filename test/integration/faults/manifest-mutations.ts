// Property-based mutations of valid Berth manifests, for the manifest fuzz suite. Each generated case is
// one valid Cluster, TaskDefinition or Service (the examples' shapes, pointed at objects the suite
// creates) with one mutation applied, and says which field it touched, as the API server spells the
// path (`spec.containerDefinitions[0].cpu`), so a refusal can be checked for naming it.
//
// The mutations: a value replaced by one of the wrong type, out of range (negative, fractional, above
// 2^31, ECS's bounds and one either side of them), null, empty, a huge string, an enum value with a typo;
// a field removed (required ones among them); an unknown field or a field name with a typo added to an
// object; an ECS field Berth refuses or does not support yet added; a name longer than names derived
// from it can carry; a reference to a Cluster, TaskDefinition revision or Secret that does not exist.
import fc from 'fast-check';
import type { KubeObject } from '../../../src/store/object-store';

export type FuzzKind = 'Cluster' | 'TaskDefinition' | 'Service';
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

export interface MutatedManifest {
  kind: FuzzKind;
  /** What was done, for failure messages: `replace spec.desiredCount with -1`. */
  description: string;
  /** The mutated field as the API server names it. */
  path: string;
  /** Fields whose rules check the mutated one, which a refusal may name instead: a volume's users. */
  referrers: string[];
  manifest: KubeObject;
}

/** What the mutated manifests may refer to: objects the suite creates before applying them. */
export interface FuzzTargets {
  cluster: string;
  taskDefinition: string;
}

const apiVersion = 'berth.dev/v1alpha1';

/** examples/00-cluster.yaml on simulated instances, sized 0 of at most 1 so an accepted Cluster launches little. */
function baseCluster(name: string): KubeObject {
  return {
    apiVersion,
    kind: 'Cluster',
    metadata: { name, labels: { app: 'fuzz' } },
    spec: {
      nodeGroups: [
        {
          name: 'general',
          type: 'managed',
          provider: 'simulated',
          instanceType: { cpu: 2048, memory: 4096 },
          scaling: { minSize: 0, desiredSize: 0, maxSize: 1 },
          availabilityZones: ['zone-a', 'zone-b'],
          attributes: { tier: 'web' },
        },
      ],
    },
  } as KubeObject;
}

/** examples/10-taskdefinition-web.yaml, with a Secret reference. */
function baseTaskDefinition(name: string): KubeObject {
  return {
    apiVersion,
    kind: 'TaskDefinition',
    metadata: { name, labels: { app: 'fuzz' } },
    spec: {
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      volumes: [{ name: 'logs' }],
      containerDefinitions: [
        {
          name: 'web',
          image: 'busybox:stable',
          essential: true,
          stopTimeout: 5,
          cpu: 256,
          memory: 128,
          command: ['sh', '-c', 'exec httpd -f -p 8080'],
          portMappings: [{ name: 'http', containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
          healthCheck: { command: ['CMD-SHELL', 'true'], interval: 10, timeout: 5, retries: 3, startPeriod: 5 },
          mountPoints: [{ sourceVolume: 'logs', containerPath: '/var/log/web' }],
          environment: [{ name: 'GREETING', value: 'hello' }],
        },
        {
          name: 'log-shipper',
          image: 'busybox:stable',
          essential: false,
          memoryReservation: 32,
          volumesFrom: [{ sourceContainer: 'web', readOnly: true }],
          dependsOn: [{ containerName: 'web', condition: 'START' }],
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } },
        },
      ],
    },
  } as KubeObject;
}

/** examples/20-service-web.yaml at desiredCount 0 on the suite's Cluster and TaskDefinition: an accepted Service starts nothing by itself. */
function baseService(name: string, targets: FuzzTargets): KubeObject {
  return {
    apiVersion,
    kind: 'Service',
    metadata: { name, labels: { app: 'fuzz' } },
    spec: {
      cluster: targets.cluster,
      taskDefinition: targets.taskDefinition,
      schedulingStrategy: 'REPLICA',
      desiredCount: 0,
      deploymentConfiguration: {
        minimumHealthyPercent: 50,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
      healthCheckGracePeriodSeconds: 30,
    },
  } as KubeObject;
}

function base(kind: FuzzKind, name: string, targets: FuzzTargets): KubeObject {
  if (kind === 'Cluster') return baseCluster(name);
  if (kind === 'TaskDefinition') return baseTaskDefinition(name);
  return baseService(name, targets);
}

/** ECS fields Berth refuses (or does not support yet), as a user pastes them, per kind: [path, value]. */
const unsupportedFields: Record<FuzzKind, [Segment[], Json][]> = {
  Cluster: [[['spec', 'settings'], [{ name: 'containerInsights', value: 'enabled' }]]],
  TaskDefinition: [
    [['spec', 'executionRoleArn'], 'arn:aws:iam::123456789012:role/exec'],
    [['spec', 'taskRoleArn'], 'arn:aws:iam::123456789012:role/task'],
    [['spec', 'networkMode'], 'awsvpc'],
    [['spec', 'containerDefinitions', 0, 'linuxParameters'], { initProcessEnabled: true }],
    [['spec', 'containerDefinitions', 0, 'privileged'], true],
    [['spec', 'containerDefinitions', 0, 'firelensConfiguration'], { type: 'fluentbit' }],
  ],
  Service: [
    [['spec', 'launchType'], 'EXTERNAL'],
    [['spec', 'loadBalancers'], [{ targetGroupArn: 'arn:aws:elasticloadbalancing:x', containerName: 'web', containerPort: 8080 }]],
    [['spec', 'autoScaling'], { minCapacity: 1, maxCapacity: 4 }],
  ],
};

/** References to what does not exist, and valid but odd values: [path, value]. */
const oddReferences: Record<FuzzKind, [Segment[], Json][]> = {
  Cluster: [
    [['spec', 'nodeGroups', 0, 'scaling', 'maxSize'], 1000],
    [['spec', 'nodeGroups', 0, 'availabilityZones'], []],
    [['spec', 'nodeGroups', 0, 'type'], 'selfManaged'],
  ],
  TaskDefinition: [
    [['spec', 'containerDefinitions', 0, 'secrets'], [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'no-such-secret', key: 'token' } } }]],
    [['spec', 'family'], 'no-such-family-yet'],
    [['spec', 'containerDefinitions', 1, 'dependsOn', 0, 'containerName'], 'no-such-container'],
    [['spec', 'containerDefinitions', 0, 'image'], 'registry.invalid/nothing:never'],
  ],
  Service: [
    [['spec', 'cluster'], 'no-such-cluster'],
    [['spec', 'taskDefinition'], 'no-such-family'],
    [['spec', 'taskDefinition'], 'no-such-family:7'],
    [['spec', 'desiredCount'], 1],
    [['spec', 'deploymentConfiguration', 'deploymentCircuitBreaker', 'enable'], false],
  ],
};

const numbers: Json[] = [-1, 0, 1, 1.5, -0.5, 4, 5, 10, 60, 61, 99, 100, 101, 199, 200, 201, 300, 301, 65535, 65536, 2 ** 31, 1e12];
const weirdValues = fc.oneof(
  fc.constantFrom<Json>(null, '', 'x', 'Not_A-Name!', true, false, [], {}, [1], { bogus: 1 }, 'ENABLED', 'enabled', '10', '-1'),
  fc.constantFrom(...numbers),
  fc.integer({ min: 5_000, max: 20_000 }).map((n) => 'a'.repeat(n)),
);

/** Every path of `value` below its root, leaves and inner nodes alike, except apiVersion and kind. */
function pathsOf(value: Json, prefix: Segment[] = []): Segment[][] {
  const children: [Segment, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  return children
    .filter(([key]) => !(prefix.length === 0 && (key === 'apiVersion' || key === 'kind')))
    .flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function objectPathsOf(root: Json): Segment[][] {
  return [[], ...pathsOf(root)].filter((p) => {
    const v = at(root, p);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
}

function at(root: Json, path: Segment[]): Json {
  let node: Json = root;
  for (const segment of path) node = (node as Record<string, Json>)[segment as string];
  return node;
}

/** Sets (or, with `undefined`, removes) the value at `path` in place. */
function set(root: Json, path: Segment[], value: Json | undefined): void {
  const parent = at(root, path.slice(0, -1)) as Record<string, Json> & Json[];
  const last = path[path.length - 1];
  if (value !== undefined) parent[last as string] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last as string];
}

/** `spec.containerDefinitions[0].cpu`, as the API server names a field. */
export function fieldPath(path: Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

interface Mutation {
  description: string;
  path: Segment[];
  /** Applies the mutation to a fresh copy of the template it was drawn from. */
  apply: (root: Json) => void;
}

/** Draws mutations of `template` (which it never changes). */
type Mutator = (kind: FuzzKind, template: Json, name: string) => fc.Arbitrary<Mutation>;

/**
 * A value accepted there must not start more than a task: a Service scaled to 65,536 is valid, and would
 * only load the API server with tasks that can never be placed.
 */
function startsLittle(path: Segment[], value: Json): boolean {
  return path[path.length - 1] !== 'desiredCount' || typeof value !== 'number' || value <= 1;
}

const replaceValue: Mutator = (_kind, root) =>
  fc
    .tuple(fc.constantFrom(...pathsOf(root).filter((p) => p[0] !== 'metadata' || p[1] !== 'name')), weirdValues)
    .filter(([path, value]) => startsLittle(path, value))
    .map(([path, value]) => ({
      description: `replace ${fieldPath(path)} with ${JSON.stringify(value).slice(0, 60)}`,
      path,
      apply: (copy) => set(copy, path, value),
    }));

const removeField: Mutator = (_kind, root) =>
  fc.constantFrom(...pathsOf(root).filter((p) => p.length > 1 && !(p[0] === 'metadata' && p[1] === 'name'))).map((path) => ({
    description: `remove ${fieldPath(path)}`,
    path,
    apply: (copy) => set(copy, path, undefined),
  }));

const typoInEnum: Mutator = (_kind, root) =>
  fc
    .tuple(
      fc.constantFrom(...pathsOf(root).filter((p) => typeof at(root, p) === 'string' && /^[A-Za-z_-]+$/.test(at(root, p) as string))),
      fc.constantFrom<(s: string) => string>(
        (s) => s.toLowerCase(),
        (s) => s.toUpperCase(),
        (s) => `${s}X`,
        (s) => s.slice(1),
      ),
    )
    .filter(([path, typo]) => typo(at(root, path) as string) !== at(root, path))
    .map(([path, typo]) => ({
      description: `typo in ${fieldPath(path)}: ${typo(at(root, path) as string)}`,
      path,
      apply: (copy) => set(copy, path, typo(at(root, path) as string)),
    }));

const unknownField: Mutator = (_kind, root) =>
  fc
    .tuple(
      fc.constantFrom(...objectPathsOf(root).filter((p) => p.length > 0 && !(p[0] === 'metadata' && ['labels', 'annotations'].includes(p[1] as string)))),
      fc.constantFrom<(keys: string[]) => string>(
        () => 'bogusField',
        (keys) => (keys[0] ?? 'x').toLowerCase() + 'S',
        (keys) => (keys[keys.length - 1] ?? 'x').toUpperCase(),
      ),
    )
    .map(([parent, makeKey]) => {
      const key = makeKey(Object.keys(at(root, parent) as object));
      return { description: `add unknown field ${fieldPath([...parent, key])}`, path: [...parent, key], apply: (copy) => set(copy, [...parent, key], 1) };
    });

const unsupported: Mutator = (kind) =>
  fc.constantFrom(...unsupportedFields[kind]).map(([path, value]) => ({
    description: `set ${fieldPath(path)} (not supported) to ${JSON.stringify(value)}`,
    path,
    apply: (copy) => set(copy, path, structuredClone(value)),
  }));

const oddReference: Mutator = (kind) =>
  fc.constantFrom(...oddReferences[kind]).map(([path, value]) => ({
    description: `set ${fieldPath(path)} to ${JSON.stringify(value)}`,
    path,
    apply: (copy) => set(copy, path, structuredClone(value)),
  }));

/**
 * A long name (unique: it starts with the case's own name): 63 is a Service's limit (its tasks' label),
 * 253 every object's. A long Cluster also launches its one instance, whose name is derived from it.
 */
const longName: Mutator = (kind, _template, name) =>
  fc.constantFrom(60, 63, 64, 200, 240, 253, 254, 300).map((length) => ({
    description: `name ${length} characters long`,
    path: ['metadata', 'name'],
    apply: (copy) => {
      set(copy, ['metadata', 'name'], `${name}-${'n'.repeat(length)}`.slice(0, length));
      if (kind === 'Cluster') set(copy, ['spec', 'nodeGroups', 0, 'scaling', 'desiredSize'], 1);
    },
  }));

/** Label values and keys the API server refuses, or takes. */
const oddLabel: Mutator = () =>
  fc
    .constantFrom<[string, Json]>(['app', 'a'.repeat(64)], ['app', 'bad value'], ['Bad Key!', 'x'], ['app', 5], ['app', null], ['berth.dev/ok', 'yes'])
    .map(([key, value]) => ({
      description: `label ${key}=${JSON.stringify(value).slice(0, 40)}`,
      path: ['metadata', 'labels'],
      apply: (copy) => set(copy, ['metadata', 'labels', key], value),
    }));

const mutators: Mutator[] = [replaceValue, replaceValue, removeField, typoInEnum, unknownField, unsupported, oddReference, longName, oddLabel];

/**
 * Rules on `spec.containerDefinitions` check what containers refer to: the volumes their mountPoints
 * name, and the hostPorts the network mode allows; so a refused volume or network mode may be named there.
 */
function referrersOf(path: string): string[] {
  return /^spec\.(volumes|networkMode)\b/.test(path) ? ['spec.containerDefinitions'] : [];
}

/** One case: kind, mutation and the resulting manifest, named `name` (or starting with it). */
export function mutatedManifest(targets: FuzzTargets, name: string): fc.Arbitrary<MutatedManifest> {
  return fc.tuple(fc.constantFrom<FuzzKind>('Cluster', 'TaskDefinition', 'Service'), fc.nat({ max: mutators.length - 1 })).chain(([kind, which]) => {
    const template = base(kind, name, targets) as unknown as Json;
    return mutators[which](kind, template, name).map((mutation) => {
      const manifest = structuredClone(template);
      mutation.apply(manifest);
      const path = fieldPath(mutation.path);
      return { kind, description: mutation.description, path, referrers: referrersOf(path), manifest: manifest as unknown as KubeObject };
    });
  });
}
