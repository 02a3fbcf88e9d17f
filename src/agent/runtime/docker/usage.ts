/**
 * A task's usage from its containers' Docker stats (GET /containers/{id}/stats), for service auto scaling.
 *
 * CPU: `cpu_stats.cpu_usage.total_usage`, the container cgroup's cumulative CPU time in nanoseconds on
 * cgroup v1 (cpuacct.usage) and v2 (cpu.stat usage_usec × 1000, converted by the engine) alike.
 *
 * Memory: what `docker stats` shows as MEM USAGE, the cgroup's usage without the file pages the kernel can
 * reclaim at once, so a task that read a large file once does not look full:
 *   cgroup v1: memory_stats.usage − memory_stats.stats.total_inactive_file
 *   cgroup v2: memory_stats.usage − memory_stats.stats.inactive_file
 * A v1 answer carries both inactive_file (this cgroup alone) and total_inactive_file (with its children), so
 * total_inactive_file is what tells v1 apart; when the inactive pages are not below usage, usage stands alone,
 * as the Docker CLI does.
 *
 * A container that stopped after it was listed answers with the engine's empty stats: only its name and id,
 * `read` at Go's zero time 0001-01-01T00:00:00Z, `memory_stats` {} and a CPU total of 0. It used nothing
 * now and is skipped. So is a Windows container: its memory comes as privateworkingset, never `usage`, and
 * its CPU is counted in 100 ns intervals.
 */
import type { CumulativeUsage } from '../../task-runtime';

/** The part of a stats answer read here: every field optional, as the empty answer leaves them out. */
export interface EngineStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number | undefined> };
}

/** One running container's reading; undefined for the empty answer of a container that is not running. */
export interface ContainerUsage {
  cpuNanoseconds: number;
  memoryBytes: number;
  /** The engine's timestamp; undefined when missing or not a real time (Go's zero time is before the epoch). */
  readAt?: number;
}

export function containerUsage(stats: EngineStats): ContainerUsage | undefined {
  const cpuNanoseconds = stats.cpu_stats?.cpu_usage?.total_usage;
  const usage = stats.memory_stats?.usage;
  if (typeof cpuNanoseconds !== 'number' || typeof usage !== 'number') return undefined;
  const memory = stats.memory_stats?.stats ?? {};
  const inactiveFile = 'total_inactive_file' in memory ? memory.total_inactive_file : memory.inactive_file;
  const memoryBytes = inactiveFile !== undefined && inactiveFile < usage ? usage - inactiveFile : usage;
  const readAt = stats.read === undefined ? Number.NaN : Date.parse(stats.read);
  return { cpuNanoseconds, memoryBytes, ...(readAt > 0 && { readAt }) };
}

/**
 * The sum over the task's containers, read at the latest engine timestamp among them (they are read in
 * parallel, milliseconds apart), else at `now`; undefined when no container gave a reading. A container that
 * stops or restarts between two readings takes its CPU time out of the sum (a restarted one counts from 0
 * again), so that period undercounts; the caller does not report a negative difference.
 */
export function taskUsage(stats: EngineStats[], now: number): CumulativeUsage | undefined {
  const readings = stats.flatMap((s) => containerUsage(s) ?? []);
  if (readings.length === 0) return undefined;
  const engineTimes = readings.flatMap((r) => (r.readAt === undefined ? [] : [r.readAt]));
  return {
    cpuNanoseconds: readings.reduce((total, r) => total + r.cpuNanoseconds, 0),
    memoryBytes: readings.reduce((total, r) => total + r.memoryBytes, 0),
    readAt: engineTimes.length > 0 ? Math.max(...engineTimes) : now,
  };
}
