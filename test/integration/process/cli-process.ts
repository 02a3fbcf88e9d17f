// Helpers for tests that drive the built CLI (dist/cli/main.js) as a real child process, next to the
// real kube-apiserver and dockerd. Each test keeps its ChildProcess handles and ends only those, by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import Dockerode from 'dockerode';
import { dockerSocketPath, testEnv } from '../../env/env';
import { eventually } from '../../../src/runtime/eventually';

export const projectDir = path.resolve(__dirname, '..', '..', '..');
export const cliPath = path.join(projectDir, 'dist', 'cli', 'main.js');

/** Throws a message saying what to do when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: these tests run the built CLI; run \`npm run build\` first (.ci/run builds before the tests).`);
  }
}

export function dockerClient(): Dockerode {
  return new Dockerode({ socketPath: dockerSocketPath(testEnv()) });
}

const keptOutput = 400_000;

/** One running `node dist/cli/main.js …`, with its stdout and stderr kept (the tail of them) for assertions and diagnostics. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited = false;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [cliPath, ...args], {
      cwd: projectDir,
      env: { ...process.env, DOCKER_HOST: testEnv().dockerHost, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout = (this.stdout + chunk).slice(-keptOutput)));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-keptOutput)));
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Sends a signal to this process only (by its pid). */
  signal(signal: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, signal);
  }

  /** Resolves with the exit, or undefined when the process is still running after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL when it does not leave in time; for afterAll. */
  async end(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    if (await this.waitForExit(graceMs)) return;
    this.signal('SIGKILL');
    await this.waitForExit(5_000);
  }

  /** The last lines of both streams, for failure messages. */
  tail(lines = 40): string {
    const last = (text: string) => text.trimEnd().split('\n').slice(-lines).join('\n');
    return `--- stdout (tail) ---\n${last(this.stdout)}\n--- stderr (tail) ---\n${last(this.stderr)}`;
  }
}

/** The project's polling helper, with what was last seen (`detail`) in the failure. */
export function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs: number,
  detail: () => string | Promise<string> = () => '',
  intervalMs = 250,
): Promise<T> {
  return eventually(probe, what, { timeoutMs, intervalMs, detail });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A short random suffix for names this run owns. */
export function runSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
