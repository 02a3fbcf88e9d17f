/**
 * A CPU profile of one case, taken in-process through the inspector: the same V8 sampling profiler
 * and file format as `node --cpu-prof`, but started and stopped around each case, so each profile
 * holds one case (control plane included, since it runs in this process). Summarise one with
 * `npm run bench:profile -- FILE`.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** 10 ms between samples: a 40-minute case stays a file of a few tens of MB, and the sampler costs next to nothing. */
const samplingIntervalUs = 10_000;

export async function startCpuProfile(): Promise<{ stopAndWrite(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  return {
    stopAndWrite: async (file) => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
    },
  };
}
