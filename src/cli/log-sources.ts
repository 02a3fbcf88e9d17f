import type { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import Dockerode from 'dockerode';
import { taskLabels } from '../agent/task-runtime';
import { RestClient } from '../store/kube/rest-client';
import type { LogSources } from './logs';

/**
 * The real log sources of `berth logs`: the API server of the kubeconfig for Pods, and the Docker engine of
 * DOCKER_HOST (or the default socket), as the docker CLI picks it, for containers.
 */
export function logSources(config: KubeConfig, env: NodeJS.ProcessEnv = process.env): LogSources {
  const rest = new RestClient(config);
  const docker = new Dockerode();
  return {
    engine: env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
    podLog: async (namespace, pod, container, request, out) => {
      const query = new URLSearchParams({ container, follow: String(request.follow) });
      if (request.tail !== undefined) query.set('tailLines', String(request.tail));
      const { body } = await rest.openBytes(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${query.toString()}`);
      await copyInto(body, out);
    },
    dockerContainers: async (taskUid) => {
      const listed = await docker.listContainers({ all: true, filters: { label: [`${taskLabels.taskUid}=${taskUid}`] } });
      return listed.map((c) => ({ id: c.Id, container: c.Labels[taskLabels.containerName] ?? '', created: c.Created }));
    },
    dockerLog: async (id, request, out, err) => {
      const container = docker.getContainer(id);
      const options = { stdout: true, stderr: true, ...(request.tail !== undefined && { tail: request.tail }) };
      if (!request.follow) {
        demultiplex(await container.logs({ ...options, follow: false }), out, err);
        return;
      }
      // The engine ends a followed log when the container stops.
      const stream = (await container.logs({ ...options, follow: true })) as Readable;
      const ended = endOf(stream);
      docker.modem.demuxStream(stream, out, err);
      await ended;
    },
  };
}

/** Copies `source` into `out` without ending it (the process's stdout stays open for what follows); resolves when `source` ends. */
function copyInto(source: Readable, out: Writable): Promise<void> {
  const ended = endOf(source);
  source.on('data', (chunk: Buffer) => out.write(chunk));
  return ended;
}

/** Resolves when `source` ends or closes (the server closed a followed log), rejects on its error. */
function endOf(source: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    source.once('end', resolve);
    source.once('close', resolve);
    source.once('error', reject);
  });
}

/** Docker's multiplexed log format (no TTY): frames of an 8-byte header (stream 1 = stdout, 2 = stderr; big-endian size) and the bytes. */
export function demultiplex(buffer: Buffer, out: Writable, err: Writable): void {
  for (let offset = 0; offset + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size);
    (buffer[offset] === 2 ? err : out).write(payload);
    offset += 8 + size;
  }
}
