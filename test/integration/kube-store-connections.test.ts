// The kube adapter keeps its TLS connections to the API server: requests in sequence reuse one
// connection instead of each paying for a new TCP connection, a TLS handshake with the client
// certificate and a new SecureContext. (Before this was so, an operator rolling out 200 tasks spent
// about half of its busy CPU setting up TLS, and the API server as much answering handshakes.)
//
// A TCP pass-through proxy on loopback in front of the real API server counts the connections it
// accepts; TLS still runs end to end, so the API server's certificate (issued for 127.0.0.1) verifies.
import * as net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeStore } from '../../src/store/kube/kube-store';
import { configMaps, namespaces } from '../../src/store/builtin-types';
import type { KubeObject } from '../../src/store/object-store';
import { testEnv } from '../env/env';

interface CountingProxy {
  port: number;
  connections: number;
  close(): Promise<void>;
}

function countingProxy(target: URL): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: CountingProxy = { port: 0, connections: 0, close: () => Promise.resolve() };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      proxy.port = (server.address() as net.AddressInfo).port;
      proxy.close = () =>
        new Promise((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        });
      resolve(proxy);
    }),
  );
}

let proxy: CountingProxy;
let store: KubeStore;
const namespace = `conn-${Date.now().toString(36)}`;

beforeAll(async () => {
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  const server = new URL(config.getCurrentCluster()!.server);
  proxy = await countingProxy(server);
  const viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    clusters: config.clusters.map((cluster) =>
      cluster.name === config.getCurrentCluster()!.name ? { ...cluster, server: `https://127.0.0.1:${proxy.port}` } : cluster,
    ),
    contexts: config.contexts,
    users: config.users,
    currentContext: config.currentContext,
  });
  store = new KubeStore(viaProxy);
  await store.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await store?.delete(namespaces, undefined, namespace).catch(() => undefined);
  await proxy?.close();
});

test('requests in sequence share one TLS connection to the API server', async () => {
  const before = proxy.connections;
  for (let i = 0; i < 20; i++) {
    await store.create<KubeObject>(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace } });
    await store.get(configMaps, namespace, `c${i}`);
    await store.patch(configMaps, namespace, `c${i}`, { data: { n: String(i) } });
  }
  // 60 requests, one after the other: one connection, two if the server closed an idle one meanwhile.
  expect(proxy.connections - before).toBeLessThanOrEqual(2);
});

test('requests in parallel open no more connections than they need at once, and a watch holds its own', async () => {
  const before = proxy.connections;
  const { resourceVersion } = await store.list(configMaps, namespace);
  const events: string[] = [];
  const watch = await store.watch<KubeObject>(
    configMaps,
    namespace,
    { resourceVersion },
    { onEvent: (e) => events.push(e.object.metadata.name), onClose: () => undefined },
  );
  try {
    for (let round = 0; round < 5; round++) {
      await Promise.all([...Array(4).keys()].map((i) => store.get(configMaps, namespace, `c${i}`)));
    }
    await store.create<KubeObject>(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched', namespace } });
    for (let attempt = 0; attempt < 100 && !events.includes('watched'); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toContain('watched');
  } finally {
    watch.stop();
  }
  // The list (reused), the watch (its own), 4 parallel gets at most, the create (reused).
  expect(proxy.connections - before).toBeLessThanOrEqual(6);
});
