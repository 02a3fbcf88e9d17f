/**
 * `npm run bench:profile -- FILE.cpuprofile [TOP]`: the top frames of a V8 CPU profile (as written by
 * `node --cpu-prof`), by self time and by total time, with the file and line of each function —
 * the summary BENCHMARKS.md gives for every missed target.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface FrameTime {
  self: number;
  total: number;
}

/** Self and total microseconds per function (name, file, line); recursion counts a frame once per stack. */
export function frameTimes(profile: CpuProfile): Map<string, FrameTime> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfById = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next sample.
  samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (deltas[i + 1] ?? 0)));
  const times = new Map<string, FrameTime>();
  for (const [id, self] of selfById) {
    const leaf = frameName(byId.get(id)!);
    entry(times, leaf).self += self;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const name = frameName(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      entry(times, name).total += self;
    }
  }
  return times;
}

function entry(times: Map<string, FrameTime>, name: string): FrameTime {
  let time = times.get(name);
  if (!time) times.set(name, (time = { self: 0, total: 0 }));
  return time;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return `(${functionName || 'anonymous'})`;
  const file = url.replace(/^file:\/\//, '');
  const relative = path.relative(process.cwd(), file);
  const shown = relative.startsWith('..') ? file : relative;
  return `${functionName || '(anonymous)'} ${shown.replace(/^.*node_modules\//, 'node_modules/')}:${lineNumber + 1}`;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: npm run bench:profile -- FILE.cpuprofile [TOP]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const times = frameTimes(profile);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const idle = times.get('((idle))')?.self ?? 0;
  process.stdout.write(`${file}: ${(wallMs / 1000).toFixed(1)} s profiled, ${(100 - (idle / 1000 / wallMs) * 100).toFixed(1)} % busy\n`);
  const table = (title: string, key: keyof FrameTime, include: (name: string) => boolean) => {
    process.stdout.write(`\n${title}\n`);
    const rows = [...times.entries()].filter(([name]) => include(name)).sort((a, b) => b[1][key] - a[1][key]);
    for (const [name, time] of rows.slice(0, top)) {
      process.stdout.write(`${(time[key] / 1000).toFixed(0).padStart(9)} ms ${((time[key] / 1000 / wallMs) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
    }
  };
  table('by self time', 'self', (name) => name !== '((idle))' && name !== '((root))' && name !== '((program))');
  // Node's own event-loop and module-loader frames sit under everything: only the program's frames say where time goes.
  table('by total time (self + callees), program frames only', 'total', (name) => !name.startsWith('(') && !/ node:|ts-node/.test(name));
}

main();
