// What the auto-scaling suites share: a CPU load switched from the test, and reading a Service and its Events.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Service } from '../../../src/api';
import { testEnv } from '../../env/env';
import { eventually, type Harness } from '../../support/berth-harness';

/**
 * A host directory every task of a burner task definition mounts read-only: while its `burn` file exists each
 * task keeps `yes` busy 0.2 s of every second (about 20 % of a core: 205 CPU units, of the 1024 it reserves by
 * default), and otherwise sleeps (≈ 0 %). A task that runs as a Pod on the test node mounts it as a hostPath:
 * the kubelet runs on this host too.
 */
export class LoadSwitch {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'berth-load-'));

  constructor() {
    chmodSync(this.dir, 0o755);
  }

  on(): void {
    writeFileSync(path.join(this.dir, 'burn'), '');
  }

  off(): void {
    rmSync(path.join(this.dir, 'burn'));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A bridge-mode task definition of one container that burns CPU while `load` is on; `cpu` units reserved (1024 by default). */
export function burnerTaskDefinition(name: string, load: LoadSwitch, cpu = 1024): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  networkMode: bridge
  cpu: ${cpu}
  memory: 128
  volumes:
    - name: ctl
      host: { sourcePath: ${load.dir} }
  containerDefinitions:
    - name: ${name}
      image: ${testEnv().testImage}
      command:
        - sh
        - -c
        - 'trap "exit 0" TERM; while true; do if [ -f /ctl/burn ]; then yes > /dev/null & p=$!; sleep 0.2; kill $p; sleep 0.8; else sleep 1; fi; done'
      mountPoints:
        - sourceVolume: ctl
          containerPath: /ctl
          readOnly: true
`;
}

export const serviceNamed = async (h: Harness, name: string) => (await h.get<Service>(`bsvc/${name}`))!;

/** The messages of the Service's Events with `reason`, in name order (not time order). */
export async function serviceEvents(h: Harness, name: string, reason: string): Promise<string[]> {
  const list = await h.get<{ items: { reason: string; message: string }[] }>(
    'events',
    '--field-selector',
    `involvedObject.kind=Service,involvedObject.name=${name}`,
  );
  return (list?.items ?? []).filter((e) => e.reason === reason).map((e) => e.message);
}

/** Waits until the Service satisfies `holds`, reporting the namespace's Services and Tasks when it never does. */
export function untilService(h: Harness, name: string, holds: (service: Service) => boolean, what: string, timeoutMs = 60_000): Promise<Service> {
  return eventually(
    async () => {
      const service = await serviceNamed(h, name);
      return holds(service) ? service : undefined;
    },
    what,
    timeoutMs,
    250,
    () => h.describe(),
  );
}
