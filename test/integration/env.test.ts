// Proves that the test environment is the real thing: a kube-apiserver of the pinned release backed by etcd,
// kube-controller-manager's namespace controller, a Docker engine that runs the local test image, and a real
// kubelet node whose Pods get their own address, publish host ports and reach the API server in-cluster.
import Docker from 'dockerode';
import { eventually } from '../../src/runtime/eventually';
import { httpGet } from '../support/http';
import { dockerSocketPath, kubectl, kubectlOk, testEnv, testNode } from '../env/env';

const suffix = Date.now().toString(36);

describe('test environment', () => {
  test('kubectl and kube-apiserver are the pinned release', async () => {
    const version = JSON.parse(await kubectlOk(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe('v1.34.4');
    expect(version.clientVersion.gitVersion).toBe('v1.34.4');
    // No skew warning or anything else on stderr.
    expect((await kubectl(['version'])).stderr).toBe('');
  });

  test('a ConfigMap round-trips through etcd, and a namespace is really deleted', async () => {
    const namespace = `env-${suffix}`;
    await kubectlOk(['create', 'namespace', namespace]);
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'round-trip', namespace },
      data: { greeting: 'hello berth' },
    });
    await kubectlOk(['apply', '-f', '-'], manifest);
    const read = JSON.parse(await kubectlOk(['get', 'configmap', 'round-trip', '-n', namespace, '-o', 'json'])) as {
      data: Record<string, string>;
      metadata: { resourceVersion: string };
    };
    expect(read.data).toEqual({ greeting: 'hello berth' });
    expect(Number(read.metadata.resourceVersion)).toBeGreaterThan(0);

    // The namespace controller (kube-controller-manager) empties and removes the namespace.
    await kubectlOk(['delete', 'namespace', namespace, '--wait=true', '--timeout=60s']);
    const gone = await kubectl(['get', 'namespace', namespace]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('NotFound');
  });

  test('RBAC is enforced for users outside system:masters', async () => {
    const denied = await kubectl(['auth', 'can-i', 'list', 'secrets', '--as=someone', '-A']);
    expect(denied.stdout.trim()).toBe('no');
    expect((await kubectl(['auth', 'can-i', '*', '*'])).stdout.trim()).toBe('yes');
  });

  describe('Docker engine', () => {
    const docker = new Docker({ socketPath: dockerSocketPath() });

    test(`runs ${testEnv().testImage} and removes the container`, async () => {
      const container = await docker.createContainer({
        Image: testEnv().testImage,
        Cmd: ['echo', 'hello'],
        Tty: true, // one plain stream: no multiplexing headers in the logs
        Labels: { 'dev.berth.test': 'env' },
      });
      try {
        await container.start();
        const exit = (await container.wait()) as { StatusCode: number };
        expect(exit.StatusCode).toBe(0);
        const logs = await container.logs({ stdout: true, stderr: true, follow: false });
        expect(logs.toString('utf8').trim()).toBe('hello');
      } finally {
        await container.remove({ force: true });
      }
      await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    test('publishes a container port on 127.0.0.1', async () => {
      const container = await docker.createContainer({
        Image: testEnv().testImage,
        Cmd: ['sh', '-c', 'mkdir -p /www && echo berth > /www/index.html && exec httpd -f -p 8000 -h /www'],
        ExposedPorts: { '8000/tcp': {} },
        HostConfig: { PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        Labels: { 'dev.berth.test': 'env' },
      });
      try {
        await container.start();
        const info = await container.inspect();
        const binding = info.NetworkSettings.Ports['8000/tcp']?.[0];
        expect(binding?.HostIp).toBe('127.0.0.1');
        const body = await retry(() => httpGet(`http://127.0.0.1:${binding.HostPort}/index.html`, 2000));
        expect(body.trim()).toBe('berth');
      } finally {
        await container.remove({ force: true });
      }
    });
  });

  describe('the test node', () => {
    const node = testNode();
    const namespace = `env-node-${suffix}`;
    beforeAll(async () => {
      await kubectlOk(['create', 'namespace', namespace]);
    });
    afterAll(async () => {
      await kubectlOk(['delete', 'namespace', namespace, '--wait=true', '--timeout=90s']);
    });

    test('runs a Pod bound to it, with its own IP and a host port answering on the node address', async () => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace },
        spec: {
          nodeName: node.name,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'web',
              image: testEnv().testImage,
              imagePullPolicy: 'Never',
              command: ['/bin/sh', '-c', 'echo "$HOSTNAME" > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'],
              ports: [{ containerPort: 8080, hostPort: 18091 }],
              readinessProbe: { exec: { command: ['/bin/sh', '-c', 'nc -w 1 127.0.0.1 8080 </dev/null'] }, periodSeconds: 1 },
            },
          ],
        },
      };
      await kubectlOk(['apply', '-f', '-'], JSON.stringify(pod));
      await kubectlOk(['wait', '-n', namespace, '--for=condition=Ready', 'pod/web', '--timeout=90s']);
      const podIP = await kubectlOk(['get', 'pod', 'web', '-n', namespace, '-o', 'jsonpath={.status.podIP}']);
      expect(podIP).toMatch(/^10\.244\.0\.\d+$/);
      expect((await httpGet(`http://${node.ip}:18091/index.html`)).trim()).toBe('web');
      // kubectl exec and logs go through the API server to the kubelet, with its client certificate.
      expect((await kubectlOk(['exec', '-n', namespace, 'web', '--', 'cat', '/tmp/index.html'])).trim()).toBe('web');
    });

    test('a Pod reaches the API server through the kubernetes Service, with its ServiceAccount token', async () => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace },
        spec: {
          nodeName: node.name,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'client',
              image: testEnv().testImage,
              imagePullPolicy: 'Never',
              // busybox wget does not verify TLS; the token and the namespace file prove the projected volume.
              command: [
                '/bin/sh',
                '-c',
                'dir=/var/run/secrets/kubernetes.io/serviceaccount; test -s $dir/ca.crt && ' +
                  'timeout 10 wget -q -O - --header "Authorization: Bearer $(cat $dir/token)" ' +
                  'https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api',
              ],
            },
          ],
        },
      };
      await kubectlOk(['apply', '-f', '-'], JSON.stringify(pod));
      await kubectlOk(['wait', '-n', namespace, '--for=jsonpath={.status.phase}=Succeeded', 'pod/client', '--timeout=90s']);
      const output = await kubectlOk(['logs', '-n', namespace, 'client']);
      expect(JSON.parse(output.slice(output.indexOf('{')))).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    });

    test('metrics-server serves metrics.k8s.io through the aggregator: kubectl top shows the node and a Pod on it', async () => {
      const available = await kubectlOk(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}']);
      expect(available).toBe('True');
      expect(await kubectlOk(['top', 'node', node.name, '--no-headers'])).toMatch(new RegExp(`^${node.name}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
      // The web Pod of the first test: in the metrics once the kubelet sampled it twice (metric-resolution 10 s).
      const top = await eventually(
        async () => {
          const result = await kubectl(['top', 'pod', 'web', '-n', namespace, '--containers', '--no-headers']);
          return result.code === 0 && result.stdout;
        },
        'kubectl top pod web',
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      expect(top).toMatch(/^web\s+web\s+\d+m\s+\d+Mi/);
    });
  });
});

async function retry<T>(action: () => Promise<T>, attempts = 40): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
