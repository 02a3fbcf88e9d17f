import { isStoreError, resourceKey, type ObjectStore, type ResourceType } from '../object-store';

const writeVerbs = ['create', 'update', 'updateStatus', 'patch', 'delete'] as const;
export type WriteVerb = (typeof writeVerbs)[number];

export interface WriteRecord {
  verb: WriteVerb;
  /** e.g. `tasks.berth.dev`. */
  resource: string;
  name: string;
  outcome: 'ok' | 'conflict' | 'error';
  /** `status` for patches of the status subresource. */
  subresource?: string;
}

/**
 * Wraps a store and records every write it passes on, with its outcome: what tests and benchmarks
 * count to hold Berth to its API economy (writes per task, conflicts, idle writes).
 */
export class CountingStore {
  readonly writes: WriteRecord[] = [];
  readonly store: ObjectStore;

  constructor(inner: ObjectStore) {
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function' || !(writeVerbs as readonly (string | symbol)[]).includes(property)) return value;
        const verb = property as WriteVerb;
        return async (...args: unknown[]) => {
          const type = args[0] as ResourceType;
          const name = nameOf(verb, args);
          const record: WriteRecord = { verb, resource: resourceKey(type), name, outcome: 'ok' };
          if (verb === 'patch' && args[4] === 'status') record.subresource = 'status';
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (error) {
            record.outcome = isStoreError(error, 'Conflict') ? 'conflict' : 'error';
            throw error;
          } finally {
            this.writes.push(record);
          }
        };
      },
    });
  }

  /** Writes to one resource (e.g. `tasks.berth.dev`), optionally of one outcome. */
  count(resource: string, outcome?: WriteRecord['outcome']): number {
    return this.matching({ resource, ...(outcome ? { outcome } : {}) }).length;
  }

  /** The writes with every field `filter` gives. */
  matching(filter: Partial<WriteRecord>): WriteRecord[] {
    const wanted = Object.entries(filter) as [keyof WriteRecord, string][];
    return this.writes.filter((w) => wanted.every(([field, value]) => w[field] === value));
  }

  reset(): void {
    this.writes.length = 0;
  }
}

function nameOf(verb: WriteVerb, args: unknown[]): string {
  if (verb === 'patch' || verb === 'delete') return String(args[2]);
  return (args[1] as { metadata: { name: string } }).metadata.name;
}
