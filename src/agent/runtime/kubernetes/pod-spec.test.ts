import { container, taskSpec } from '../../../ecs/testing/fixtures';
import { containerNamesAnnotation, millicores, podName, taskPod, type PodLaunch } from './pod-spec';
import { observePod } from './pod-observation';

const launch = (spec: PodLaunch['spec'], fields: Partial<PodLaunch> = {}): PodLaunch => ({
  task: { namespace: 'shop', name: 'web-1a2b-0', uid: 'uid-1' },
  cluster: 'prod',
  service: 'web',
  taskDefinition: 'web:3',
  spec,
  nodeName: 'node-a',
  podLevelResources: true,
  ...fields,
});

describe('taskPod', () => {
  test('identity: named after its task, owned by it, labelled with cluster, service, family and revision, bound to its Node', () => {
    const pod = taskPod(launch(taskSpec([container('app', { memory: 128 })])));
    expect(pod.metadata).toMatchObject({
      name: 'web-1a2b-0',
      namespace: 'shop',
      labels: { 'berth.dev/cluster': 'prod', 'berth.dev/service': 'web', 'berth.dev/family': 'web', 'berth.dev/revision': '3', 'berth.dev/task-uid': 'uid-1' },
      annotations: { 'berth.dev/task-definition': 'web:3' },
      ownerReferences: [{ apiVersion: 'berth.dev/v1alpha1', kind: 'Task', name: 'web-1a2b-0', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
    });
    expect(pod.spec).toMatchObject({ nodeName: 'node-a', restartPolicy: 'Never', enableServiceLinks: false, automountServiceAccountToken: false });
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(30);
  });

  test('resources: cpu units as millicores (a request only), memoryReservation as the request, memory as the limit', () => {
    expect(millicores(1024)).toBe('1000m');
    expect(millicores(256)).toBe('250m');
    expect(millicores(100)).toBe('98m');
    const pod = taskPod(launch(taskSpec([container('a', { cpu: 512, memory: 512, memoryReservation: 256 }), container('b', { memoryReservation: 64 })])));
    expect(pod.spec?.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    expect(pod.spec?.containers[1].resources).toEqual({ requests: { memory: '64Mi' } });
  });

  test('task-level cpu and memory: pod-level resources where the API server has them, else spread over the containers that set none', () => {
    const spec = taskSpec([container('a', { cpu: 256, memoryReservation: 256 }), container('b'), container('c')], { cpu: 1024, memory: 1024 });
    expect(taskPod(launch(spec)).spec?.resources).toEqual({ requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1000m', memory: '1024Mi' } });
    const spread = taskPod(launch(spec, { podLevelResources: false })).spec!;
    expect(spread.resources).toBeUndefined();
    // cpu 1024 − 256 = 768 over b and c → 384 units (375m) each; memory 1024 − 256 = 768 → 384 MiB each, also their limit.
    expect(spread.containers[1].resources).toEqual({ requests: { cpu: '375m', memory: '384Mi' }, limits: { memory: '384Mi' } });
    expect(spread.containers[0].resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' } });
  });

  test('ports: a static bridge hostPort, an allocated dynamic one, awsvpc without, host network mode as hostNetwork', () => {
    const bridge = taskSpec([
      container('web', {
        memory: 64,
        portMappings: [
          { containerPort: 80, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 53, hostPort: 0, protocol: 'udp' },
          { containerPort: 9090, protocol: 'tcp' },
        ],
      }),
    ]);
    const pod = taskPod(launch(bridge, { allocatedHostPorts: { web: { '53/udp': 49153, '9090/tcp': 49154 } } }));
    expect(pod.spec?.containers[0].ports).toEqual([
      { containerPort: 80, protocol: 'TCP', hostPort: 8080 },
      { containerPort: 53, protocol: 'UDP', hostPort: 49153 },
      { containerPort: 9090, protocol: 'TCP', hostPort: 49154 },
    ]);
    expect(() => taskPod(launch(bridge))).toThrow('no host port allocated for web 53/udp');

    const awsvpc = taskSpec([container('web', { memory: 64, portMappings: [{ containerPort: 80, protocol: 'tcp' }] })], { networkMode: 'awsvpc' });
    expect(taskPod(launch(awsvpc)).spec?.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    const host = taskSpec([container('web', { memory: 64, portMappings: [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }] })], { networkMode: 'host' });
    expect(taskPod(launch(host)).spec).toMatchObject({ hostNetwork: true, containers: [{ ports: [{ containerPort: 80, protocol: 'TCP' }] }] });
  });

  test('healthCheck: an exec readiness probe with the same interval, timeout and retries; never a liveness probe', () => {
    const shell = taskSpec([
      container('a', {
        memory: 64,
        healthCheck: { command: ['CMD-SHELL', 'curl -f localhost || exit 1'], interval: 10, timeout: 3, retries: 4, startPeriod: 20 },
      }),
    ]);
    const probe = taskPod(launch(shell)).spec!.containers[0];
    expect(probe.readinessProbe).toEqual({
      exec: { command: ['/bin/sh', '-c', 'curl -f localhost || exit 1'] },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 4,
      successThreshold: 1,
    });
    expect(probe.livenessProbe).toBeUndefined();
    const exec = taskSpec([container('a', { memory: 64, healthCheck: { command: ['CMD', '/bin/check', '--quick'], interval: 5, timeout: 2, retries: 3 } })]);
    expect(taskPod(launch(exec)).spec!.containers[0].readinessProbe?.exec?.command).toEqual(['/bin/check', '--quick']);
  });

  test('dependsOn: init containers and native sidecars (a startup probe for HEALTHY) before the containers', () => {
    const spec = taskSpec([
      container('app', {
        memory: 64,
        dependsOn: [
          { containerName: 'proxy', condition: 'HEALTHY' },
          { containerName: 'migrate', condition: 'SUCCESS' },
        ],
      }),
      container('proxy', { memory: 64, essential: false, healthCheck: { command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 10 } }),
      container('migrate', { memory: 64, essential: false }),
    ]);
    const pod = taskPod(launch(spec)).spec!;
    expect(pod.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['proxy', 'Always'],
      ['migrate', undefined],
    ]);
    // startPeriod 10 at interval 5 adds 2 tries to the 3 retries.
    expect(pod.initContainers?.[0].startupProbe?.failureThreshold).toBe(5);
    expect(pod.initContainers?.[0].readinessProbe).toBeDefined();
    expect(pod.containers.map((c) => c.name)).toEqual(['app']);
    expect(() => taskPod(launch(taskSpec([container('a', { dependsOn: [{ containerName: 'b', condition: 'COMPLETE' }] }), container('b')])))).toThrow(
      'spec.containerDefinitions[1].essential',
    );
  });

  test("a sidecar's host ports are published from the first regular container, as the kubelet maps only those", () => {
    const spec = taskSpec([
      container('web', { memory: 64, portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }] }),
      container('shipper', { memory: 32, essential: false, dependsOn: [{ containerName: 'web', condition: 'START' }] }),
    ]);
    const pod = taskPod(launch(spec, { allocatedHostPorts: { web: { '8080/tcp': 49153 } } })).spec!;
    expect(pod.initContainers?.[0]).toMatchObject({ name: 'web', restartPolicy: 'Always', ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(pod.initContainers?.[0].ports?.[0].hostPort).toBeUndefined();
    expect(pod.containers[0]).toMatchObject({ name: 'shipper', ports: [{ containerPort: 8080, protocol: 'TCP', hostPort: 49153 }] });
    // And observed as the sidecar's own binding.
    const [web] = observePod({
      pod: { ...taskPod(launch(spec, { allocatedHostPorts: { web: { '8080/tcp': 49153 } } })), status: { phase: 'Running', hostIP: '10.250.0.1' } },
      spec,
      nowMs: 0,
    });
    expect(web.networkBindings).toEqual([{ bindIP: '10.250.0.1', containerPort: 8080, hostPort: 49153, protocol: 'tcp' }]);
  });

  test('environment, secrets by reference only, environment files, command and the rest of a container', () => {
    const spec = taskSpec(
      [
        container('Web_App', {
          memory: 64,
          entryPoint: ['/bin/sh', '-c'],
          command: ['exec httpd -f'],
          workingDirectory: '/srv',
          user: '1000:2000',
          environment: [{ name: 'MODE', value: 'prod' }, { name: 'TOKEN', value: 'plain' }, { name: 'EMPTY' }],
          secrets: [
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
            { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } } },
          ],
          environmentFiles: [{ secretRef: { name: 'db' } }, { configMapRef: { name: 'flags' } }],
          repositoryCredentials: { credentialsParameter: 'registry' },
          stopTimeout: 45,
        }),
      ],
      { taskRole: 'web-role' },
    );
    const pod = taskPod(launch(spec));
    const c = pod.spec!.containers[0];
    expect(c.name).toBe(podName('Web_App'));
    expect(c.name).toMatch(/^web-app-[0-9a-f]{8}$/);
    expect(pod.metadata?.annotations?.[containerNamesAnnotation]).toBe(JSON.stringify({ [c.name]: 'Web_App' }));
    expect(c).toMatchObject({ image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c'], args: ['exec httpd -f'], workingDir: '/srv' });
    expect(c.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 2000 });
    expect(c.env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'EMPTY', value: '' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
      { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } } },
    ]);
    expect(c.envFrom).toEqual([{ secretRef: { name: 'db' } }, { configMapRef: { name: 'flags' } }]);
    expect(pod.spec).toMatchObject({ serviceAccountName: 'web-role', imagePullSecrets: [{ name: 'registry' }], terminationGracePeriodSeconds: 45 });
    expect(pod.spec?.automountServiceAccountToken).toBeUndefined();
  });

  test('volumes: emptyDir for task volumes, hostPath for a sourcePath, mountPoints and volumesFrom (read-only when either says)', () => {
    const spec = taskSpec(
      [
        container('writer', {
          memory: 64,
          mountPoints: [
            { sourceVolume: 'data', containerPath: '/data', readOnly: false },
            { sourceVolume: 'host_logs', containerPath: '/logs', readOnly: true },
          ],
        }),
        container('reader', { memory: 64, volumesFrom: [{ sourceContainer: 'writer', readOnly: true }] }),
      ],
      {
        volumes: [
          { name: 'data', dockerVolumeConfiguration: { scope: 'task' } },
          { name: 'host_logs', host: { sourcePath: '/var/log/app' } },
          { name: 'scratch' },
        ],
      },
    );
    const pod = taskPod(launch(spec)).spec!;
    expect(pod.volumes).toEqual([
      { name: 'data', emptyDir: {} },
      { name: podName('host_logs'), hostPath: { path: '/var/log/app', type: 'DirectoryOrCreate' } },
      { name: 'scratch', emptyDir: {} },
    ]);
    expect(pod.containers[1].volumeMounts).toEqual([
      { name: 'data', mountPath: '/data', readOnly: true },
      { name: podName('host_logs'), mountPath: '/logs', readOnly: true },
    ]);
  });

  test('scheduling fields of a node group or Fargate profile; Fargate ephemeral storage in equal parts per container', () => {
    const spec = taskSpec([container('a', { memory: 64 }), container('b', { memory: 64 })], { networkMode: 'awsvpc', ephemeralStorage: { sizeInGiB: 30 } });
    const pod = taskPod(
      launch(spec, {
        nodeName: undefined,
        fargate: true,
        scheduling: {
          schedulerName: 'fargate-scheduler',
          nodeSelector: { pool: 'fargate' },
          runtimeClassName: 'gvisor',
          tolerations: [{ key: 'fargate', operator: 'Exists' }],
        },
      }),
    ).spec!;
    expect(pod.nodeName).toBeUndefined();
    expect(pod).toMatchObject({
      schedulerName: 'fargate-scheduler',
      nodeSelector: { pool: 'fargate' },
      runtimeClassName: 'gvisor',
      tolerations: [{ key: 'fargate', operator: 'Exists' }],
    });
    // 30 GiB = 30,720 MiB over two containers.
    expect(pod.containers.map((c) => c.resources?.limits?.['ephemeral-storage'])).toEqual(['15360Mi', '15360Mi']);
    expect(taskPod(launch(spec)).spec!.containers[0].resources?.limits?.['ephemeral-storage']).toBeUndefined();
  });
});
