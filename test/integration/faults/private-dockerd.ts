// A Docker engine of a suite's own, to restart and kill without touching the shared engine
// (/var/run/docker.sock) that the other suites and helpers use.
//
// It runs in a network namespace of its own (`ip netns add berth-dk-<suffix>`, only `lo` up inside,
// entered with `nsenter --net`, which keeps the host's mount namespace and so its cgroup mounts), so
// its docker0 bridge, addresses and routes never reach the host network; with --iptables=false and
// --ip6tables=false it writes no firewall rule, and the netns' own sysctls are the only ones it changes.
// Everything it keeps is under one short directory of /tmp (unix socket paths must stay under 108
// characters): the socket, its exec root (containerd's state too) and pid file, and its data root.
// A restart keeps every directory, as a dockerd restarted by systemd would.
//
// It is started and ended by its own pid only. `destroy()` (for afterAll, whatever the test did) ends
// it (SIGTERM, then SIGKILL), unmounts whatever is still mounted under its directory (overlay layers,
// netns files, shm of containers killed with it), deletes the network namespace and removes the
// directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import Dockerode from 'dockerode';
import { runSuffix, waitFor } from '../process/cli-process';

/** Starting includes containerd's; on a busy 2-core machine that takes a few seconds. */
const startTimeoutMs = 60_000;

export class PrivateDockerd {
  readonly dir: string;
  readonly netns: string;
  readonly socketPath: string;
  readonly docker: Dockerode;
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private netnsCreated = false;
  private started = false;

  constructor() {
    this.dir = mkdtempSync('/tmp/bdk-');
    this.netns = `berth-dk-${runSuffix()}`;
    this.socketPath = path.join(this.dir, 'docker.sock');
    this.docker = new Dockerode({ socketPath: this.socketPath });
  }

  /** DOCKER_HOST for processes that should use this engine. */
  get host(): string {
    return `unix://${this.socketPath}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Creates the network namespace (first time) and starts dockerd in it; resolves once it answers. */
  async start(): Promise<void> {
    if (this.child) throw new Error('the private dockerd already runs');
    if (!this.netnsCreated) {
      await run('ip', ['netns', 'add', this.netns]);
      this.netnsCreated = true;
      await run('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', 'lo', 'up']);
    }
    await this.previousContainerdGone();
    this.started = true;
    const log = openSync(path.join(this.dir, 'dockerd.log'), 'a');
    // nsenter enters the network namespace only: `ip netns exec` would also remount /sys in a mount
    // namespace of its own, without the cgroup hierarchies dockerd needs ("Devices cgroup isn't mounted").
    const child = spawn(
      'nsenter',
      [
        ...[`--net=/var/run/netns/${this.netns}`, 'dockerd'],
        ...['-H', this.host],
        ...['--data-root', path.join(this.dir, 'data'), '--exec-root', path.join(this.dir, 'x')],
        ...['--pidfile', path.join(this.dir, 'dockerd.pid')],
        ...['--iptables=false', '--ip6tables=false'],
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    // nsenter execs dockerd: the child's pid is dockerd's.
    this.child = child;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        resolve({ code, signal });
      }),
    );
    await waitFor(
      async () => {
        if (this.child !== child) throw new Error(`the private dockerd exited while starting\n${this.logTail()}`);
        return (await this.docker.ping().catch(() => undefined)) !== undefined;
      },
      'the private dockerd to answer',
      startTimeoutMs,
      () => this.logTail(),
    );
  }

  /**
   * A SIGKILLed dockerd leaves its containerd to die of its parent's death (PR_SET_PDEATHSIG) a moment
   * later; a dockerd started meanwhile finds it "still running" by its pid file, waits for its socket,
   * and gives up. So a start waits for the previous containerd to be gone, reaped too: dockerd's check
   * (kill(pid, 0)) takes a zombie for a live process.
   */
  private async previousContainerdGone(): Promise<void> {
    const pid = readPid(path.join(this.dir, 'x', 'containerd', 'containerd.pid'));
    if (pid === undefined) return;
    await waitFor(
      () => !exists(pid),
      `the previous containerd (pid ${pid}) to exit`,
      30_000,
      () => this.logTail(),
      100,
    );
  }

  /** Sends `signal` to dockerd (by its pid) and waits for it to exit. */
  async stop(signal: 'SIGTERM' | 'SIGKILL', timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child?.pid || !this.exit) throw new Error('the private dockerd does not run');
    process.kill(child.pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the private dockerd did not exit within ${timeoutMs} ms of ${signal}\n${this.logTail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Copies `image` from `source` (the shared engine) into this one: `docker save | docker load`. */
  async loadImage(source: Dockerode, image: string): Promise<void> {
    const archive = await source.getImage(image).get();
    const response = await this.docker.loadImage(archive);
    await new Promise<void>((resolve, reject) => {
      response.on('error', reject);
      response.on('end', resolve);
      response.resume();
    });
    await this.docker.getImage(image).inspect();
  }

  /** The last lines of dockerd's log, for failure messages. */
  logTail(lines = 20): string {
    try {
      return `--- private dockerd log (tail) ---\n${readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
    } catch {
      return '--- private dockerd: no log ---';
    }
  }

  /**
   * Ends dockerd, and with it every container it ran, unmounts what is left under its directory, deletes
   * the netns and the directory.
   */
  async destroy(): Promise<void> {
    // A SIGKILLed dockerd leaves its containers running under their shims: a dockerd started again
    // (without live-restore) kills them as it restores, and a graceful stop leaves nothing behind.
    if (!this.child && this.started) await this.start().catch(() => undefined);
    if (this.child) await this.stop('SIGTERM', 30_000).catch(() => this.stop('SIGKILL', 10_000).catch(() => undefined));
    // Whatever of it still runs (a shim when the restart failed), by pid: only processes naming its directory.
    for (const pid of processesNaming(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    // Mounts may be left (overlay layers, shm, netns files of containers): deepest first, until none is.
    for (let pass = 0, mounts = mountsUnder(this.dir); mounts.length > 0 && pass < 5; pass++, mounts = mountsUnder(this.dir)) {
      for (const mount of mounts) await run('umount', ['-l', mount]).catch(() => undefined);
    }
    if (this.netnsCreated) {
      await run('ip', ['netns', 'delete', this.netns]);
      this.netnsCreated = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((mount): mount is string => mount !== undefined && (mount === dir || mount.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The process exists, a zombie included: dockerd's own check (kill(pid, 0)) counts a zombie as running. */
function exists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Pids of the processes whose command line names `dir` (dockerd, containerd and the shims it started). */
function processesNaming(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg === dir || arg.startsWith(`${dir}/`));
      } catch {
        return false;
      }
    })
    .map(Number);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
  });
}
