// What integration tests know about the real test environment (started by test/env/up.sh and
// checked by test/env/jest-global-setup.ts, which puts its coordinates into process.env).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The coordinates of the running environment, as tests see them. */
export interface TestEnv {
  /** kubeconfig of an admin (system:masters) on the test kube-apiserver. */
  kubeconfig: string;
  /** Path of the kubectl built with the API server (same release), not the one on PATH. */
  kubectl: string;
  /** Docker engine address, e.g. unix:///var/run/docker.sock. */
  dockerHost: string;
  /** Local image with busybox (/bin/sh and its applets); never pulled. */
  testImage: string;
}

/** The test node (test/env/node.sh): a real kubelet on containerd, joined to the test API server. */
export interface TestNode {
  name: string;
  /** Its address (on a bridge of its own): the kubelet, hostPorts, and the API server for Pods. */
  ip: string;
  /** The node's containerd, for `ctr -a SOCKET -n k8s.io` (images are imported there, never pulled). */
  containerdSocket: string;
}

/**
 * The shared environment's Prometheus (test/env/prometheus-adapter.sh, started with the node), which
 * prometheus-adapter serves the external metrics API (external.metrics.k8s.io) from. It scrapes every second the
 * targets listed in the JSON files of `targetsDir`.
 */
export interface TestPrometheus {
  /** Its HTTP API on loopback, e.g. http://127.0.0.1:19090 (no trailing slash). */
  url: string;
  /** file_sd directory: each `<name>.json` here ([{"targets": ["127.0.0.1:PORT"], "labels": {...}}]) is read within a second. */
  targetsDir: string;
}

/** Contents of <run dir>/env.json written by up.sh. */
export interface EnvFile extends TestEnv {
  apiserverUrl: string;
  kubeVersion: string;
  etcdUrl: string;
  runDir: string;
  /** Directory of the Cluster API CRDs (MachineDeployment, Machine), for scale-target tests to apply. */
  clusterApiCrds: string;
  /** null for a control plane started without the node (BERTH_NODE=0). */
  node: TestNode | null;
  /** null without the node (BERTH_NODE=0); absent in the env.json of an older up.sh. */
  prometheus?: TestPrometheus | null;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where up.sh keeps the kube binaries and its run dirs: $BERTH_CACHE_DIR, else $XDG_CACHE_HOME/berth or ~/.cache/berth. */
export function cacheDir(): string {
  return process.env.BERTH_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'berth');
}

/** The run dir up.sh uses: $BERTH_RUN_DIR, else <cache dir>/run. */
export function runDir(): string {
  return process.env.BERTH_RUN_DIR || path.join(cacheDir(), 'run');
}

/** Reads <run dir>/env.json; throws a message that says what to do when the environment is not up. */
export function readEnvFile(dir: string = runDir()): EnvFile {
  const file = path.join(dir, 'env.json');
  if (!existsSync(file)) {
    throw new Error(`The Berth test environment is not up (${file} does not exist): run test/env/up.sh first.`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as EnvFile;
}

const variables = {
  kubeconfig: 'BERTH_TEST_KUBECONFIG',
  kubectl: 'BERTH_TEST_KUBECTL',
  dockerHost: 'DOCKER_HOST',
  testImage: 'BERTH_TEST_IMAGE',
} as const satisfies Record<keyof TestEnv, string>;

/** The environment set up by jest's globalSetup; throws if a test runs without it. */
export function testEnv(): TestEnv {
  const missing = Object.values(variables).filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not set: integration tests must run in jest's "integration" project, whose ` +
        `globalSetup (test/env/jest-global-setup.ts) checks the environment from test/env/up.sh and sets them.`,
    );
  }
  return {
    kubeconfig: process.env[variables.kubeconfig]!,
    kubectl: process.env[variables.kubectl]!,
    dockerHost: process.env[variables.dockerHost]!,
    testImage: process.env[variables.testImage]!,
  };
}

/** The shared environment's test node; throws when the environment was started without one. */
export function testNode(): TestNode {
  const node = readEnvFile().node;
  if (!node) throw new Error(`The test environment in ${runDir()} has no node: start it with test/env/up.sh (without BERTH_NODE=0).`);
  return node;
}

/** The shared environment's Prometheus; throws when the environment was started without it. */
export function testPrometheus(): TestPrometheus {
  const prometheus = readEnvFile().prometheus;
  if (!prometheus) throw new Error(`The test environment in ${runDir()} has no Prometheus: start it with test/env/up.sh (without BERTH_NODE=0).`);
  return prometheus;
}

/** A scrape target of the test Prometheus; `remove()` ends its scraping (its series then go stale). */
export interface ScrapeTarget {
  file: string;
  remove(): void;
}

/**
 * Has the test Prometheus scrape `address` (host:port, on loopback; path /metrics) every second from now on, as
 * `<targetsDir>/<name>.json` with `labels` on its series. The file appears whole (renamed into place), so Prometheus
 * never reads half of it. `name` must be unique to the caller: another suite's file of the same name is replaced.
 */
export function addScrapeTarget(name: string, address: string, labels: Record<string, string> = {}, prometheus = testPrometheus()): ScrapeTarget {
  const file = path.join(prometheus.targetsDir, `${name}.json`);
  const staging = path.join(prometheus.targetsDir, `.${name}.json.tmp`);
  writeFileSync(staging, JSON.stringify([{ targets: [address], labels }]));
  renameSync(staging, file);
  return { file, remove: () => rmSync(file, { force: true }) };
}

/** Socket path of the Docker engine (for dockerode's socketPath). */
export function dockerSocketPath(env: TestEnv = testEnv()): string {
  if (!env.dockerHost.startsWith('unix://')) throw new Error(`expected a unix:// DOCKER_HOST, got ${env.dockerHost}`);
  return env.dockerHost.slice('unix://'.length);
}

/** Runs a program to completion, feeding it stdin; never rejects for a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a program that exits without reading stdin
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * Runs the built kubectl with the admin kubeconfig of `env`: the test environment of jest's globalSetup, or
 * another one a suite started itself (read with readEnvFile from its run dir).
 */
export function kubectl(args: string[], stdin?: string, env: TestEnv = testEnv()): Promise<CommandResult> {
  return run(env.kubectl, ['--kubeconfig', env.kubeconfig, ...args], {
    stdin,
    // Keep kubectl's discovery cache out of ~/.kube, next to the environment it describes.
    env: { ...process.env, KUBECONFIG: env.kubeconfig, KUBECACHEDIR: path.join(path.dirname(env.kubeconfig), 'kube-cache') },
  });
}

/** Like kubectl(), but throws with kubectl's stderr when it fails; returns stdout. */
export async function kubectlOk(args: string[], stdin?: string, env: TestEnv = testEnv()): Promise<string> {
  const result = await kubectl(args, stdin, env);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

const crdDir = path.resolve(__dirname, '..', '..', 'crds');

/**
 * Server-side apply of everything in crds/ (force-conflicts: the tests own these objects), then waits until the
 * API server serves every CRD. Done by jest's globalSetup for the shared environment, and by a suite for one it started.
 */
export async function applyCrds(env: TestEnv = testEnv()): Promise<void> {
  const files = existsSync(crdDir) ? readdirSync(crdDir).filter((f) => /\.(ya?ml|json)$/.test(f)) : [];
  if (files.length === 0) {
    console.warn(`applyCrds: no CRD manifests in ${crdDir}; nothing applied`);
    return;
  }
  const apply = await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', crdDir], undefined, env);
  if (apply.code !== 0) throw new Error(`kubectl apply -f crds/ failed: ${apply.stderr.trim() || apply.stdout.trim()}`);
  const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', crdDir], undefined, env);
  if (established.code !== 0) {
    throw new Error(`CRDs in crds/ did not become Established: ${established.stderr.trim() || established.stdout.trim()}`);
  }
}
