import type Dockerode from 'dockerode';
import { FakeClock } from '../../../runtime/clock';
import { DockerRuntime } from './docker-runtime';
import { containerUsage, taskUsage, type EngineStats } from './usage';

// One-shot answers (stream=false, one-shot=true) as Docker Engine gives them, shortened only in the long lists
// of memory_stats.stats; every field usage.ts reads is as the engine writes it.

/** Docker 20.10 on a cgroup v1 host: percpu_usage, max_usage and both inactive_file and total_inactive_file. */
const cgroupV1 = {
  read: '2025-03-04T10:15:30.123456789Z',
  preread: '0001-01-01T00:00:00Z',
  pids_stats: { current: 2 },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 8, minor: 0, op: 'Read', value: 1_056_768 },
      { major: 8, minor: 0, op: 'Write', value: 0 },
    ],
    io_serviced_recursive: [],
    io_queue_recursive: [],
    io_service_time_recursive: [],
    io_wait_time_recursive: [],
    io_merged_recursive: [],
    io_time_recursive: [],
    sectors_recursive: [],
  },
  num_procs: 0,
  storage_stats: {},
  cpu_stats: {
    cpu_usage: { total_usage: 2_731_052_338, percpu_usage: [1_402_361_020, 1_328_691_318], usage_in_kernelmode: 610_000_000, usage_in_usermode: 2_040_000_000 },
    system_cpu_usage: 35_071_350_000_000,
    online_cpus: 2,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: {
    usage: 7_098_368,
    max_usage: 9_621_504,
    stats: {
      active_anon: 2_568_192,
      active_file: 1_622_016,
      cache: 3_244_032,
      hierarchical_memory_limit: 67_108_864,
      inactive_anon: 0,
      inactive_file: 1_486_848,
      mapped_file: 1_486_848,
      pgfault: 4521,
      pgmajfault: 0,
      pgpgin: 3828,
      pgpgout: 2217,
      rss: 2_568_192,
      rss_huge: 0,
      total_active_anon: 2_568_192,
      total_active_file: 1_622_016,
      total_cache: 3_244_032,
      total_inactive_anon: 0,
      total_inactive_file: 1_622_016,
      total_mapped_file: 1_486_848,
      total_pgfault: 4521,
      total_pgmajfault: 0,
      total_pgpgin: 3828,
      total_pgpgout: 2217,
      total_rss: 2_568_192,
      total_rss_huge: 0,
      total_unevictable: 0,
      total_writeback: 0,
      unevictable: 0,
      writeback: 0,
    },
    failcnt: 0,
    limit: 67_108_864,
  },
  name: '/berth-team-web-1-0f3a9c1e-app',
  id: '5b1e0d6c2f4a8e9b7c3d1f0a6e2b4c8d9f1a3e5b7c9d0e2f4a6b8c0d2e4f6a8b',
  networks: {},
};

/** Docker 24 on a cgroup v2 host: no percpu_usage, max_usage or failcnt; memory.stat's own keys. */
const cgroupV2 = {
  read: '2025-03-04T10:15:31.987654321Z',
  preread: '0001-01-01T00:00:00Z',
  pids_stats: { current: 1, limit: 4_611_686_018_427_387_904 },
  blkio_stats: {
    io_service_bytes_recursive: [
      { major: 254, minor: 0, op: 'read', value: 4096 },
      { major: 254, minor: 0, op: 'write', value: 0 },
    ],
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  },
  num_procs: 0,
  storage_stats: {},
  cpu_stats: {
    cpu_usage: { total_usage: 41_567_000, usage_in_kernelmode: 18_011_000, usage_in_usermode: 23_556_000 },
    system_cpu_usage: 1_234_567_890_000_000,
    online_cpus: 4,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: {
    usage: 1_589_248,
    stats: {
      active_anon: 4096,
      active_file: 249_856,
      anon: 286_720,
      anon_thp: 0,
      file: 1_101_824,
      file_dirty: 0,
      file_mapped: 712_704,
      file_writeback: 0,
      inactive_anon: 282_624,
      inactive_file: 851_968,
      kernel_stack: 16_384,
      pgfault: 1353,
      pgmajfault: 9,
      shmem: 0,
      slab: 135_328,
      slab_reclaimable: 53_552,
      slab_unreclaimable: 81_776,
      sock: 0,
      unevictable: 0,
    },
    limit: 67_108_864,
  },
  name: '/berth-team-web-1-0f3a9c1e-sidecar',
  id: '9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d',
  networks: { eth0: { rx_bytes: 1046, rx_packets: 11, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
};

/** A container that stopped after it was listed: the engine's empty answer, only its name and id. */
const stopped = {
  read: '0001-01-01T00:00:00Z',
  preread: '0001-01-01T00:00:00Z',
  pids_stats: {},
  blkio_stats: {
    io_service_bytes_recursive: null,
    io_serviced_recursive: null,
    io_queue_recursive: null,
    io_service_time_recursive: null,
    io_wait_time_recursive: null,
    io_merged_recursive: null,
    io_time_recursive: null,
    sectors_recursive: null,
  },
  num_procs: 0,
  storage_stats: {},
  cpu_stats: {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  precpu_stats: {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  },
  memory_stats: {},
  name: '/berth-team-web-1-0f3a9c1e-init',
  id: '1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c0d2e4f6a8b0c1d3e5f7a9b',
};

/** A Windows container: memory as private working set, CPU in 100 ns intervals. */
const windows = {
  read: '2025-03-04T10:15:30.5Z',
  num_procs: 4,
  cpu_stats: { cpu_usage: { total_usage: 1_718_750, usage_in_kernelmode: 1_250_000, usage_in_usermode: 468_750 }, throttling_data: {} },
  memory_stats: { commitbytes: 77_160_448, commitpeakbytes: 105_000_960, privateworkingset: 59_501_568 },
};

const now = Date.parse('2025-03-04T10:16:00Z');

describe('containerUsage', () => {
  it('cgroup v1: CPU is total_usage; memory is usage − total_inactive_file (this cgroup and its children), not inactive_file', () => {
    // 7,098,368 − 1,622,016 = 5,476,352 bytes; usage − inactive_file would say 5,611,520.
    expect(containerUsage(cgroupV1)).toEqual({
      cpuNanoseconds: 2_731_052_338,
      memoryBytes: 5_476_352,
      readAt: Date.parse('2025-03-04T10:15:30.123Z'),
    });
  });

  it('cgroup v2: CPU is total_usage (usage_usec × 1000); memory is usage − inactive_file', () => {
    // 1,589,248 − 851,968 = 737,280 bytes.
    expect(containerUsage(cgroupV2)).toEqual({ cpuNanoseconds: 41_567_000, memoryBytes: 737_280, readAt: Date.parse('2025-03-04T10:15:31.987Z') });
  });

  it('keeps usage whole when the inactive file pages are not below it, as the Docker CLI does', () => {
    const stats: EngineStats = { ...cgroupV2, memory_stats: { usage: 4096, stats: { inactive_file: 8192 } } };
    expect(containerUsage(stats)?.memoryBytes).toBe(4096);
    expect(containerUsage({ ...cgroupV2, memory_stats: { usage: 4096 } })?.memoryBytes).toBe(4096);
  });

  it('a timestamp with an offset is the same instant', () => {
    expect(containerUsage({ ...cgroupV2, read: '2025-03-04T12:15:31.987654321+02:00' })?.readAt).toBe(Date.parse('2025-03-04T10:15:31.987Z'));
  });

  it('no engine timestamp when read is missing, Go zero time or not a time', () => {
    const { read: _read, ...unread } = cgroupV2;
    expect(containerUsage(unread)).not.toHaveProperty('readAt');
    expect(containerUsage({ ...cgroupV2, read: '0001-01-01T00:00:00Z' })).not.toHaveProperty('readAt');
    expect(containerUsage({ ...cgroupV2, read: 'yesterday' })).not.toHaveProperty('readAt');
  });

  it('no reading from the empty answer of a stopped container, nor from a Windows container', () => {
    expect(containerUsage(stopped)).toBeUndefined();
    expect(containerUsage(windows as EngineStats)).toBeUndefined();
    expect(containerUsage({})).toBeUndefined();
  });
});

describe('taskUsage', () => {
  it('sums the containers, read at the latest engine timestamp', () => {
    expect(taskUsage([cgroupV1, cgroupV2], now)).toEqual({
      cpuNanoseconds: 2_731_052_338 + 41_567_000,
      memoryBytes: 5_476_352 + 737_280,
      readAt: Date.parse('2025-03-04T10:15:31.987Z'),
    });
  });

  it('skips a container that stopped after it was listed', () => {
    expect(taskUsage([stopped, cgroupV2], now)).toEqual(containerUsage(cgroupV2));
  });

  it("reads at the runtime's clock when no container gives an engine timestamp", () => {
    const { read: _read, ...unread } = cgroupV2;
    expect(taskUsage([unread], now)).toEqual({ cpuNanoseconds: 41_567_000, memoryBytes: 737_280, readAt: now });
  });

  it('undefined when no container gave a reading: none running, or all stopped since', () => {
    expect(taskUsage([], now)).toBeUndefined();
    expect(taskUsage([stopped, stopped], now)).toBeUndefined();
  });

  it('two readings 60 s apart give the average over the minute: 30e9 ns / 60e9 ns × 1024 = 512 CPU units', () => {
    const at = (seconds: number, totalUsage: number): EngineStats => ({
      ...cgroupV2,
      read: new Date(Date.parse('2025-03-04T10:00:00Z') + seconds * 1000).toISOString(),
      cpu_stats: { cpu_usage: { total_usage: totalUsage } },
    });
    const first = taskUsage([at(0, 41_567_000)], now)!;
    const second = taskUsage([at(60, 41_567_000 + 30e9)], now)!;
    expect(((second.cpuNanoseconds - first.cpuNanoseconds) / ((second.readAt - first.readAt) * 1e6)) * 1024).toBe(512);
  });
});

describe('DockerRuntime.usage', () => {
  /** An engine whose running containers answer stats with the given payload, or fail with the given status. */
  function engine(answers: Record<string, EngineStats | { statusCode: number }>) {
    const lists: unknown[] = [];
    const statsOptions: unknown[] = [];
    const docker = {
      listContainers: async (options: unknown) => {
        lists.push(options);
        return Object.keys(answers).map((Id) => ({ Id }));
      },
      getContainer: (id: string) => ({
        stats: async (options: unknown) => {
          statsOptions.push(options);
          const answer = answers[id];
          if ('statusCode' in answer) throw Object.assign(new Error(`(HTTP code ${answer.statusCode})`), answer);
          return answer;
        },
      }),
    } as unknown as Dockerode;
    return { runtime: new DockerRuntime({ docker, containerInstance: 'i-1', clock: new FakeClock() }), lists, statsOptions };
  }

  it("lists the task's running containers by its labels and reads each once, one-shot", async () => {
    const { runtime, lists, statsOptions } = engine({ a: cgroupV2, b: cgroupV2 });
    expect(await runtime.usage('uid-1')).toEqual({ cpuNanoseconds: 2 * 41_567_000, memoryBytes: 2 * 737_280, readAt: Date.parse('2025-03-04T10:15:31.987Z') });
    expect(lists).toEqual([{ filters: { label: ['dev.berth.container-instance=i-1', 'dev.berth.task-uid=uid-1'] } }]);
    expect(statsOptions).toEqual([
      { stream: false, 'one-shot': true },
      { stream: false, 'one-shot': true },
    ]);
  });

  it('skips a container that stopped (empty stats) or was removed (404) since it was listed', async () => {
    const { runtime } = engine({ a: stopped, b: { statusCode: 404 }, c: cgroupV2 });
    expect(await runtime.usage('uid-1')).toEqual(containerUsage(cgroupV2));
  });

  it('undefined when nothing of the task runs; an engine failure is not taken for that', async () => {
    expect(await engine({}).runtime.usage('uid-1')).toBeUndefined();
    expect(await engine({ a: { statusCode: 404 } }).runtime.usage('uid-1')).toBeUndefined();
    await expect(engine({ a: cgroupV2, b: { statusCode: 500 } }).runtime.usage('uid-1')).rejects.toThrow('HTTP code 500');
  });
});
