/**
 * An ObjectStore decorator that counts every write the control plane makes, by resource and verb,
 * with the 409s among them, and can tell a listener about each write as it is issued. Reads (get,
 * list, watch) pass through uncounted: they are the informers' business, not the API economy's.
 */
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  MergePatch,
  ObjectStore,
  ResourceType,
  Watch,
  WatchCallbacks,
  WatchOptions,
} from '../../src/store/object-store';
import { isStoreError } from '../../src/store/object-store';

export type WriteVerb = 'create' | 'update' | 'updateStatus' | 'patch' | 'delete';

/** One write, as it is issued (before the store answers). */
export interface IssuedWrite {
  verb: WriteVerb;
  type: ResourceType;
  namespace: string | undefined;
  name: string;
  /** The object written (create, update, updateStatus). */
  object?: KubeObject;
  /** The merge patch (patch). */
  patch?: MergePatch;
  /** performance.now() when the write was issued. */
  at: number;
}

export interface WriteCount {
  writes: number;
  /** 409 Conflict: a stale resourceVersion. */
  conflicts: number;
  /** 409 AlreadyExists: a create of a name that is taken. */
  alreadyExists: number;
  /** Any other failure. */
  errors: number;
}

/** Counts keyed `<plural>.<verb>`, e.g. `tasks.updateStatus`. */
export type WriteCounts = Record<string, WriteCount>;

/** Writes of one resource in flight at once (issued, not yet answered) over a span. */
export interface Concurrency {
  peak: number;
  /** Time-weighted mean over the span. */
  mean: number;
}

/** In-flight writes of one resource: the current count, its peak and its integral over time since the span began. */
class InFlight {
  current = 0;
  peak = 0;
  private area = 0;
  private since = performance.now();
  private spanStart = this.since;

  change(by: number): void {
    const now = performance.now();
    this.area += this.current * (now - this.since);
    this.since = now;
    this.current += by;
    this.peak = Math.max(this.peak, this.current);
  }

  /** The span's figures, and starts a new span. */
  take(): Concurrency {
    this.change(0);
    const span = this.since - this.spanStart;
    const result = { peak: this.peak, mean: span > 0 ? this.area / span : 0 };
    this.area = 0;
    this.spanStart = this.since;
    this.peak = this.current;
    return result;
  }
}

export class CountingStore implements ObjectStore {
  private counts: WriteCounts = {};
  private readonly listeners = new Set<(write: IssuedWrite) => void>();
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly inner: ObjectStore) {}

  /** Calls `listener` synchronously as each write is issued; returns a function that stops it. */
  onWrite(listener: (write: IssuedWrite) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The counts since the last reset, and starts counting afresh. */
  takeCounts(): WriteCounts {
    const counts = this.counts;
    this.counts = {};
    return counts;
  }

  /**
   * How many writes of `type` were in flight at once since the last call (or since the first write):
   * the concurrency the control plane actually wrote that resource with, whatever its workers and
   * parallel writes add up to.
   */
  takeConcurrency(type: ResourceType): Concurrency {
    return this.inFlightOf(type.plural).take();
  }

  private inFlightOf(plural: string): InFlight {
    let inFlight = this.inFlight.get(plural);
    if (!inFlight) this.inFlight.set(plural, (inFlight = new InFlight()));
    return inFlight;
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    return this.inner.get<T>(type, namespace, name);
  }

  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ListResult<T>> {
    return this.inner.list<T>(type, namespace, options);
  }

  watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch> {
    return this.inner.watch<T>(type, namespace, options, callbacks);
  }

  create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.count({ verb: 'create', type, object, ...where(object) }, () => this.inner.create(type, object));
  }

  update<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.count({ verb: 'update', type, object, ...where(object) }, () => this.inner.update(type, object));
  }

  updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.count({ verb: 'updateStatus', type, object, ...where(object) }, () => this.inner.updateStatus(type, object));
  }

  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: 'status'): Promise<T> {
    return this.count({ verb: 'patch', type, namespace, name, patch }, () => this.inner.patch<T>(type, namespace, name, patch, subresource));
  }

  delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<T | undefined> {
    return this.count({ verb: 'delete', type, namespace, name }, () => this.inner.delete<T>(type, namespace, name, options));
  }

  private async count<R>(write: Omit<IssuedWrite, 'at'>, perform: () => Promise<R>): Promise<R> {
    const issued = { ...write, at: performance.now() };
    for (const listener of this.listeners) listener(issued);
    const count = (this.counts[`${write.type.plural}.${write.verb}`] ??= { writes: 0, conflicts: 0, alreadyExists: 0, errors: 0 });
    count.writes++;
    const inFlight = this.inFlightOf(write.type.plural);
    inFlight.change(1);
    try {
      return await perform();
    } catch (error) {
      if (isStoreError(error, 'Conflict')) count.conflicts++;
      else if (isStoreError(error, 'AlreadyExists')) count.alreadyExists++;
      else count.errors++;
      throw error;
    } finally {
      inFlight.change(-1);
    }
  }
}

function where(object: KubeObject): { namespace: string | undefined; name: string } {
  return { namespace: object.metadata.namespace, name: object.metadata.name };
}

/** Sums counts over keys that pass `include` (e.g. one resource's). */
export function totalOf(counts: WriteCounts, include: (key: string) => boolean = () => true): WriteCount {
  const total: WriteCount = { writes: 0, conflicts: 0, alreadyExists: 0, errors: 0 };
  for (const [key, count] of Object.entries(counts)) {
    if (!include(key)) continue;
    total.writes += count.writes;
    total.conflicts += count.conflicts;
    total.alreadyExists += count.alreadyExists;
    total.errors += count.errors;
  }
  return total;
}

/** Selects the counts of one resource, for totalOf. */
export const ofResource =
  (type: ResourceType) =>
  (key: string): boolean =>
    key.startsWith(`${type.plural}.`);

/** `{ "tasks.create": "1000 (3 × 409)", … }`: every count, compact enough for a JSON line. */
export function breakdown(counts: WriteCounts): Record<string, string> {
  return Object.fromEntries(
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, c]) => [key, `${c.writes}${c.conflicts + c.alreadyExists > 0 ? ` (${c.conflicts + c.alreadyExists} × 409)` : ''}`]),
  );
}
