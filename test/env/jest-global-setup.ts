// globalSetup of jest's "integration" project. The environment is started by test/env/up.sh (or .ci/run);
// this checks that it is really there — it never starts anything and never skips — then installs the
// project's CRDs with the real kubectl and hands the coordinates to the tests through process.env
// (jest's workers inherit it). Read them with testEnv() from test/env/env.ts.
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import { applyCrds, kubectl, readEnvFile, runDir } from './env';

export default async function globalSetup(): Promise<void> {
  const dir = runDir();
  const env = readEnvFile(dir);
  process.env.BERTH_TEST_KUBECONFIG = env.kubeconfig;
  process.env.BERTH_TEST_KUBECTL = env.kubectl;
  process.env.DOCKER_HOST = env.dockerHost;
  process.env.BERTH_TEST_IMAGE = env.testImage;
  process.env.BERTH_TEST_APISERVER_URL = env.apiserverUrl;
  process.env.BERTH_RUN_DIR = dir;

  const down = (what: string, detail: string) => new Error(`The Berth test environment is not up: ${what} (${detail}). Run test/env/up.sh first.`);

  if (!existsSync(env.kubectl)) throw down('kubectl is missing', env.kubectl);
  const ready = await kubectl(['get', '--raw', '/readyz']);
  if (ready.code !== 0 || ready.stdout.trim() !== 'ok') {
    throw down(`kube-apiserver at ${env.apiserverUrl} is not ready`, (ready.stderr || ready.stdout).trim());
  }
  if (env.node) {
    const ready = await kubectl(['get', 'node', env.node.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    if (ready.stdout.trim() !== 'True') throw down(`the test node ${env.node.name} is not Ready`, (ready.stderr || ready.stdout).trim() || 'not Ready');
  }
  const ping = await dockerPing(env.dockerHost).catch((error: Error) => error.message);
  if (ping !== 'OK') throw down(`the Docker engine at ${env.dockerHost} does not answer`, ping);

  await applyCrds();
}

function dockerPing(dockerHost: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath: dockerHost.replace(/^unix:\/\//, ''), path: '/_ping', timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}
