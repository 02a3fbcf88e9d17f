// Proves that the test environment is the real thing: a kube-apiserver of the pinned release backed by etcd,
// kube-controller-manager's namespace controller, and a Docker engine that runs the local test image.
import Docker from 'dockerode';
import * as http from 'node:http';
import { dockerSocketPath, kubectl, kubectlOk, testEnv } from '../env/env';

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
        const body = await retry(() => httpGet(`http://127.0.0.1:${binding.HostPort}/index.html`));
        expect(body.trim()).toBe('berth');
      } finally {
        await container.remove({ force: true });
      }
    });
  });
});

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 2000 }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${response.statusCode}`))));
      })
      .on('error', reject);
  });
}

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
