// A second control plane (etcd, kube-apiserver, kube-controller-manager) that one suite starts for itself with
// test/env/up.sh, on ports of its own and in a run dir of its own, so it can restart the API server without
// disturbing the shared environment (port 16443) every other suite uses. The Docker engine and the cached
// kube binaries are shared: up.sh reuses the engine already running and never stops what it did not start.
import * as path from 'node:path';
import { applyCrds, cacheDir, readEnvFile, run, type CommandResult, type EnvFile } from './env';

export interface PrivatePorts {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
}

export interface PrivateEnv {
  /** Its coordinates, as a TestEnv for kubectl(), startFaultEnv() and the TaskLedger. */
  env: EnvFile;
  /** Stops kube-apiserver only (by its recorded pid; killed after `graceSeconds`, at once for 0: a crash): etcd keeps running with its data. */
  stopApiserver(graceSeconds?: number): Promise<void>;
  /**
   * Starts kube-apiserver again with the flags up.sh gave it; resolves once it is ready (readyz), which says
   * nothing of custom resources: until the watch cache of one is filled, its watches answer 429.
   */
  startApiserver(): Promise<void>;
  /** down.sh --clean: stops everything it started and removes its run dir (etcd data, certificates, logs). */
  down(): Promise<void>;
}

const envDir = __dirname;

/** Starts (up.sh) a control plane in <cache dir>/run-<name>, installs the CRDs on it, and returns how to drive it. */
export async function startPrivateEnv(name: string, ports: PrivatePorts): Promise<PrivateEnv> {
  const dir = path.join(cacheDir(), `run-${name}`);
  const variables: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_RUN_DIR: dir,
    BERTH_ETCD_PORT: String(ports.etcd),
    BERTH_ETCD_PEER_PORT: String(ports.etcdPeer),
    BERTH_APISERVER_PORT: String(ports.apiserver),
    BERTH_KCM_PORT: String(ports.controllerManager),
    // One test node per machine (its address, bridges and kube-proxy's chains are the host's): the shared one.
    BERTH_NODE: '0',
  };
  const script = async (file: string, args: string[]): Promise<CommandResult> => {
    // A cold API server start bootstraps RBAC and priority classes: up.sh waits up to 120 s for it.
    const result = await run('bash', [path.join(envDir, file), ...args], { env: variables, timeoutMs: 180_000 });
    if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result;
  };
  await script('up.sh', []);
  const env = readEnvFile(dir);
  await applyCrds(env);
  return {
    env,
    stopApiserver: async (graceSeconds = 2) => void (await script('down.sh', ['--only', 'kube-apiserver', '--grace', String(graceSeconds)])),
    startApiserver: async () => void (await script('up.sh', ['--only', 'kube-apiserver'])),
    down: async () => void (await script('down.sh', ['--clean'])),
  };
}
