import type Dockerode from 'dockerode';
import { taskLabels } from '../../src/agent/task-runtime';

/** Removes every container and volume labelled with `namespace` (Berth's and the bench's own); returns how many containers there were. */
export async function removeContainersOf(docker: Dockerode, namespace: string): Promise<number> {
  const filters = { label: [`${taskLabels.namespace}=${namespace}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  await Promise.all((volumes ?? []).map((v) => docker.getVolume(v.Name).remove()));
  return containers.length;
}
