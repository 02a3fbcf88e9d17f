import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { ensureImage } from './images';

/** A Dockerode stand-in: `local` images inspect fine, pulls are recorded and end with `pullError` if set. */
function fakeDocker(local: string[], pullError?: string) {
  const pulls: Array<{ image: string; options: object }> = [];
  const docker = {
    getImage: (image: string) => ({
      inspect: async () => {
        if (local.includes(image)) return { Id: 'sha256:1' };
        throw Object.assign(new Error(`no such image: ${image}`), { statusCode: 404 });
      },
    }),
    pull: async (image: string, options: object) => {
      pulls.push({ image, options });
      const progress = new PassThrough();
      progress.end();
      return progress;
    },
    modem: {
      followProgress: (_stream: unknown, onFinished: (error: Error | null) => void) => setImmediate(() => onFinished(pullError ? new Error(pullError) : null)),
    },
  } as unknown as Dockerode;
  return { docker, pulls };
}

const auth = { username: 'robot', password: 'hunter2', serveraddress: 'registry.example' };

describe('ensureImage', () => {
  it('uses an image the engine already has without pulling', async () => {
    const { docker, pulls } = fakeDocker(['berth-test/busybox:latest']);
    await expect(ensureImage(docker, 'berth-test/busybox:latest', auth)).resolves.toBe('present');
    expect(pulls).toEqual([]);
  });

  it('pulls a missing image with the registry credentials', async () => {
    const { docker, pulls } = fakeDocker([]);
    await expect(ensureImage(docker, 'registry.example/team/app:2', auth)).resolves.toBe('pulled');
    expect(pulls).toEqual([{ image: 'registry.example/team/app:2', options: { authconfig: auth } }]);
    await ensureImage(docker, 'busybox:stable', undefined);
    expect(pulls[1]).toEqual({ image: 'busybox:stable', options: {} });
  });

  it('rejects with the error the pull reports in its progress stream', async () => {
    const { docker } = fakeDocker([], 'pull access denied for registry.example/team/app');
    await expect(ensureImage(docker, 'registry.example/team/app:2', auth)).rejects.toThrow('pull access denied');
  });
});
