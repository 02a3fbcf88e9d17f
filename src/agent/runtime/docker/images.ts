/**
 * Images on the engine: use the local copy when there is one (ECS's "prefer-cached" pull behaviour,
 * which also lets engines without registry access run locally built images), otherwise pull it with
 * the task's registry credentials.
 */
import type Dockerode from 'dockerode';
import type { RegistryAuth } from '../../task-runtime';
import { statusCode } from './engine-errors';

export type ImagePresence = 'present' | 'pulled';

/** Resolves once the image is on the engine; rejects with the engine's error when it cannot be pulled. */
export async function ensureImage(docker: Dockerode, image: string, auth: RegistryAuth | undefined): Promise<ImagePresence> {
  try {
    await docker.getImage(image).inspect();
    return 'present';
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
  }
  // dockerode pulls `:latest` of an untagged name (the engine alone would pull every tag) and sends
  // authconfig as the X-Registry-Auth header, never in the URL.
  const progress = await docker.pull(image, auth ? { authconfig: auth } : {});
  await new Promise<void>((resolve, reject) => {
    // Pull failures after the request was accepted (unknown manifest, denied) arrive in the progress stream.
    docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve()));
  });
  return 'pulled';
}
