// The Pod mapping (src/agent/runtime/kubernetes/pod-spec.ts) against the real API server and the real test
// node: every example task definition the Pod data plane can run becomes a Pod the API server accepts as is
// (server-side dry run, nothing dropped), and a task of init container, native sidecar, health check, dynamic
// host port, Secret reference and volumesFrom really runs on the kubelet as ECS would run it.
import { readFileSync, readdirSync } from 'node:fs';
import { httpGet } from '../../support/http';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';
import type { V1Pod } from '@kubernetes/client-node';
import type { TaskDefinition, TaskDefinitionSpec } from '../../../src/api';
import { podIncompatibility } from '../../../src/ecs/compatibility';
import { taskPod, type PodLaunch } from '../../../src/agent/runtime/kubernetes/pod-spec';
import { kubectlOk, testEnv, testNode } from '../../env/env';

const examplesDir = path.resolve(__dirname, '..', '..', '..', 'examples');
const namespace = `pod-spec-${Date.now().toString(36)}`;

/** The spec as the API server stores it: the CRD's defaults applied (a server-side dry run of the TaskDefinition). */
async function storedSpec(definition: TaskDefinition): Promise<TaskDefinitionSpec> {
  const manifest = { ...definition, metadata: { ...definition.metadata, namespace } };
  const stored = JSON.parse(await kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(manifest))) as TaskDefinition;
  return stored.spec;
}

function launchOf(spec: TaskDefinitionSpec, name: string, fields: Partial<PodLaunch> = {}): PodLaunch {
  let next = 49200;
  const allocatedHostPorts = Object.fromEntries(
    spec.containerDefinitions.map((c) => [c.name, Object.fromEntries((c.portMappings ?? []).map((p) => [`${p.containerPort}/${p.protocol}`, next++]))]),
  );
  return {
    task: { namespace, name, uid: '00000000-0000-0000-0000-000000000001' },
    cluster: 'default',
    taskDefinition: `${name}:1`,
    spec,
    nodeName: testNode().name,
    allocatedHostPorts,
    podLevelResources: true,
    ...fields,
  };
}

/** The Pod as the API server would store it; its spec must hold everything Berth asked for. */
async function dryRun(pod: V1Pod): Promise<V1Pod> {
  // Owner references need a real owner only when the object is persisted.
  return JSON.parse(await kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(pod))) as V1Pod;
}

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
});
afterAll(async () => {
  await kubectlOk(['delete', 'namespace', namespace, '--wait=true', '--timeout=120s']);
});

test('every example task definition a Pod can run becomes a Pod the API server takes unchanged', async () => {
  const definitions = readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => loadAll(readFileSync(path.join(examplesDir, f), 'utf8')) as { kind: string }[])
    .filter((m): m is TaskDefinition => m.kind === 'TaskDefinition');
  expect(definitions.length).toBeGreaterThanOrEqual(3);
  for (const definition of definitions) {
    const spec = await storedSpec(definition);
    expect({ name: definition.metadata.name, problem: podIncompatibility(spec) }).toEqual({ name: definition.metadata.name, problem: undefined });
    for (const podLevelResources of [true, false]) {
      const pod = taskPod(launchOf(spec, definition.metadata.name, { podLevelResources }));
      const stored = await dryRun(pod);
      // Nothing dropped or rewritten by the API server: pod-level resources (PodLevelResources), sidecars, probes.
      expect(stored.spec?.resources).toEqual(pod.spec?.resources);
      expect(stored.spec?.initContainers?.map((c) => c.name)).toEqual(pod.spec?.initContainers?.map((c) => c.name));
      expect(stored.spec?.containers.map((c) => [c.name, c.ports, c.resources, c.readinessProbe?.exec])).toEqual(
        pod.spec?.containers.map((c) => [c.name, c.ports, c.resources, c.readinessProbe?.exec]),
      );
    }
  }
});

test('on the node: an init container, a health-gated sidecar, a health check, a dynamic host port, a Secret by reference', async () => {
  await kubectlOk(['create', 'secret', 'generic', 'greeting', '-n', namespace, '--from-literal=text=hello from a secret']);
  const image = testEnv().testImage;
  const spec = await storedSpec({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: { name: 'shop', namespace },
    spec: {
      volumes: [{ name: 'site' }],
      containerDefinitions: [
        {
          name: 'web',
          image,
          memory: 64,
          command: ['/bin/sh', '-c', 'echo "$GREETING" >> /site/index.html && exec httpd -f -p 8080 -h /site'],
          portMappings: [{ containerPort: 8080 }],
          secrets: [{ name: 'GREETING', valueFrom: { secretKeyRef: { name: 'greeting', key: 'text' } } }],
          mountPoints: [{ sourceVolume: 'site', containerPath: '/site' }],
          healthCheck: { command: ['CMD-SHELL', 'nc -w 1 127.0.0.1 8080 </dev/null'], interval: 5, timeout: 2, retries: 2 },
          dependsOn: [
            { containerName: 'render', condition: 'SUCCESS' },
            { containerName: 'sidecar', condition: 'HEALTHY' },
          ],
        },
        {
          name: 'render',
          image,
          essential: false,
          memoryReservation: 16,
          command: ['/bin/sh', '-c', 'echo rendered > /site/index.html'],
          mountPoints: [{ sourceVolume: 'site', containerPath: '/site' }],
        },
        {
          name: 'sidecar',
          image,
          essential: false,
          memoryReservation: 16,
          command: ['/bin/sh', '-c', 'sleep 2; touch /tmp/ready; exec sleep 3600'],
          healthCheck: { command: ['CMD', 'test', '-f', '/tmp/ready'], interval: 5, timeout: 2, retries: 3 },
        },
      ],
    } as TaskDefinition['spec'],
  });
  const pod = taskPod(launchOf(spec, 'shop-task', { podLevelResources: false }));
  const hostPort = pod.spec!.containers[0].ports![0].hostPort!;
  // The Task that owns the Pod does not exist here: the garbage collector would delete an orphan at once.
  delete pod.metadata!.ownerReferences;
  await kubectlOk(['create', '-f', '-'], JSON.stringify(pod));
  await kubectlOk(['wait', '-n', namespace, '--for=condition=Ready', 'pod/shop-task', '--timeout=120s']);
  const running = JSON.parse(await kubectlOk(['get', 'pod', 'shop-task', '-n', namespace, '-o', 'json'])) as V1Pod;
  const init = running.status?.initContainerStatuses ?? [];
  expect(init.find((c) => c.name === 'render')?.state?.terminated?.exitCode).toBe(0);
  expect(init.find((c) => c.name === 'sidecar')).toMatchObject({ ready: true, started: true });
  expect(running.status?.containerStatuses?.[0]).toMatchObject({ name: 'web', ready: true });
  const body = await httpGet(`http://${testNode().ip}:${hostPort}/index.html`);
  expect(body.split('\n').filter(Boolean)).toEqual(['rendered', 'hello from a secret']);
  // The Secret's value is in the container, never in the Pod.
  expect(JSON.stringify(running)).not.toContain('hello from a secret');
});
