/** Shared by the runtime's tests: a simple resource type, a log capture and a real-time wait. */

import { PassThrough } from 'node:stream';
import { createLogger, Logger } from '../logger';
import { KubeObject, ObjectStore, ResourceType, StoreError } from '../../store/object-store';

export const configMapType: ResourceType = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  statusSubresource: false,
};

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name }, data };
}

export interface CapturedLogs {
  logger: Logger;
  /** Every JSON line logged so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLogs(level: 'debug' | 'info' = 'debug'): CapturedLogs {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    logger: createLogger({ level, stream }),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Polls until `condition` holds, for tests that run on the real clock. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Wraps a store so a test can cut one replica off from it: while `cut` is 'fail' every call is refused
 * as Unavailable, while 'hang' calls never answer (a dead connection).
 */
export class PartitionableStore {
  cut: 'no' | 'fail' | 'hang' = 'no';
  readonly store: ObjectStore;

  constructor(inner: ObjectStore) {
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (this.cut === 'fail') return Promise.reject(new StoreError('Unavailable', 'connection refused'));
          if (this.cut === 'hang') return new Promise(() => {});
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}
