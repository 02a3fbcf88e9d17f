import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyMergePatch } from '../merge-patch';
import { parseFieldSelector, type FieldMatcher } from '../field-selector';
import { parseLabelSelector } from '../label-selector';
import { dnsSubdomain, maxObjectNameLength } from '../object-names';
import { validateObjectMeta } from '../object-meta';
import {
  apiVersionOf,
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  MergePatch,
  ObjectStore,
  resourceKey,
  ResourceType,
  StoreError,
  Watch,
  WatchCallbacks,
  WatchEvent,
  WatchEventType,
  WatchOptions,
  type Subresource,
} from '../object-store';

/** What the API server does with a CRD's schema: defaulting, then validation (including CEL rules). */
export interface ObjectValidator {
  applyDefaults(object: KubeObject): KubeObject;
  /** One message per refused field, e.g. `spec.desiredCount: Invalid value: -1: ...`. */
  validate(object: KubeObject, oldObject?: KubeObject): string[];
}

export interface MemoryStoreOptions {
  /** Schema validation per type, so the embedded store refuses what the API server would. */
  validatorFor?: (type: ResourceType) => ObjectValidator | undefined;
  /** How many past events a watch can resume from; older resourceVersions get 410 Gone, as etcd compaction does. */
  eventHistory?: number;
  now?: () => Date;
}

interface LoggedEvent {
  resourceVersion: number;
  typeKey: string;
  event: WatchEvent<KubeObject>;
}

interface Watcher {
  typeKey: string;
  namespace: string | undefined;
  matches: (labels: Record<string, string> | undefined) => boolean;
  matchesFields: FieldMatcher;
  callbacks: WatchCallbacks<KubeObject>;
  stopped: boolean;
}

/**
 * The embedded adapter: an in-process store with the API server's semantics for what Berth
 * relies on — resourceVersion and 409 on conflict, generation bumps on spec changes only, the
 * status subresource, finalizers with deletionTimestamp, watch with 410 Gone, and owner-reference
 * garbage collection once an owner is gone.
 */
export class MemoryStore implements ObjectStore {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly types = new Map<string, ResourceType>();
  private readonly log: LoggedEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private revision = 0;
  private readonly eventHistory: number;
  private readonly now: () => Date;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    this.eventHistory = options.eventHistory ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    const object = this.bucket(type).get(objectKey(type, namespace, name));
    return object ? (structuredClone(object) as T) : undefined;
  }

  /** One page holds everything: in process, paging saves nothing, and the API allows a store to ignore `limit`. */
  async list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ListResult<T>> {
    if (options.continue) throw new StoreError('Gone', 'The provided continue parameter is too old: this store never issued it');
    const matches = parseLabelSelector(options.labelSelector);
    const matchesFields = parseFieldSelector(options.fieldSelector);
    const items = [...this.bucket(type).values()]
      .filter((o) => inNamespace(type, o, namespace) && matches(o.metadata.labels) && matchesFields(o))
      .sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
      .map((o) => structuredClone(o) as T);
    return { items, resourceVersion: String(this.revision) };
  }

  async watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch> {
    const typeKey = resourceKey(type);
    const watcher: Watcher = {
      typeKey,
      namespace: type.namespaced ? namespace : undefined,
      matches: parseLabelSelector(options.labelSelector),
      matchesFields: parseFieldSelector(options.fieldSelector),
      callbacks: callbacks,
      stopped: false,
    };
    const backlog = this.backlogSince(type, options.resourceVersion);
    if (backlog === 'gone') {
      throw new StoreError('Gone', `too old resource version: ${options.resourceVersion} (${this.oldestRetained()})`);
    }
    this.watchers.add(watcher);
    // Delivery is asynchronous, as over a network: a handler never runs inside the write that caused it.
    for (const event of backlog) this.deliver(watcher, event);
    return {
      stop: () => {
        watcher.stopped = true;
        this.watchers.delete(watcher);
      },
    };
  }

  async create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const incoming = this.prepare(type, structuredClone(object));
    const meta = incoming.metadata;
    if (!meta.name && (meta as { generateName?: string }).generateName) {
      meta.name = (meta as { generateName?: string }).generateName + randomUUID().slice(0, 5);
    }
    this.validateName(type, incoming);
    const key = objectKey(type, meta.namespace, meta.name);
    if (this.bucket(type).has(key)) {
      throw new StoreError('AlreadyExists', `${type.plural}.${type.group} "${meta.name}" already exists`);
    }
    if (meta.resourceVersion) {
      throw new StoreError('Invalid', `${type.kind} "${meta.name}" is invalid: metadata.resourceVersion: must be empty on create`, [
        'metadata.resourceVersion: Invalid value: must be empty on create',
      ]);
    }
    if (type.statusSubresource) delete (incoming as { status?: unknown }).status;
    const stored = this.validated(type, incoming);
    Object.assign(stored.metadata, {
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: this.timestamp(),
    });
    delete stored.metadata.deletionTimestamp;
    return this.commit(type, 'ADDED', stored) as T;
  }

  async update<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const current = this.current(type, object);
    const next = this.prepare(type, structuredClone(object));
    if (type.statusSubresource) (next as { status?: unknown }).status = structuredClone((current as { status?: unknown }).status);
    // Immutable or server-owned metadata keeps its stored value, as the API server does.
    Object.assign(next.metadata, {
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: current.metadata.generation,
      deletionTimestamp: current.metadata.deletionTimestamp,
    });
    if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
    if (current.metadata.deletionTimestamp && addsFinalizer(current, next)) {
      throw new StoreError('Forbidden', `${type.kind} "${current.metadata.name}": no new finalizers can be added if the object is being deleted`);
    }
    return this.write(type, current, this.validated(type, next, current)) as T;
  }

  async updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    if (!type.statusSubresource) throw new StoreError('NotFound', `${type.plural} has no status subresource`);
    const current = this.current(type, object);
    const next = structuredClone(current);
    (next as { status?: unknown }).status = structuredClone((object as { status?: unknown }).status);
    return this.write(type, current, this.validated(type, next, current)) as T;
  }

  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: Subresource): Promise<T> {
    // No kind of the embedded store has replicas to scale (Services scale through desiredCount, by update).
    if (subresource === 'scale') throw new StoreError('NotFound', `${type.plural} has no scale subresource`);
    const current = this.bucket(type).get(objectKey(type, namespace, name));
    if (!current) throw notFound(type, name);
    const patched = applyMergePatch(current, patch);
    // A patch carries no resourceVersion unless it asks for a precondition.
    const precondition = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    patched.metadata.resourceVersion = precondition ?? current.metadata.resourceVersion;
    return (subresource === 'status' ? this.updateStatus(type, patched) : this.update(type, patched)) as Promise<T>;
  }

  async delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<T | undefined> {
    const current = this.bucket(type).get(objectKey(type, namespace, name));
    if (!current) throw notFound(type, name);
    if (options.preconditionUid && options.preconditionUid !== current.metadata.uid) {
      throw new StoreError('Conflict', `Precondition failed: UID in precondition: ${options.preconditionUid}, UID in object meta: ${current.metadata.uid}`);
    }
    if ((current.metadata.finalizers ?? []).length === 0) {
      this.remove(type, current);
      return undefined;
    }
    if (current.metadata.deletionTimestamp) return structuredClone(current) as T;
    const next = structuredClone(current);
    next.metadata.deletionTimestamp = this.timestamp();
    next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    return this.commit(type, 'MODIFIED', next) as T;
  }

  // --- internals -------------------------------------------------------------------------------

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(type);
    let bucket = this.objects.get(key);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(key, bucket);
      this.types.set(key, type);
    }
    return bucket;
  }

  private prepare(type: ResourceType, object: KubeObject): KubeObject {
    if (!object.metadata) throw new StoreError('Invalid', `${type.kind} is invalid: metadata: Required value`, ['metadata: Required value']);
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    if (type.namespaced && !object.metadata.namespace) {
      throw new StoreError('Invalid', `${type.kind} "${object.metadata.name}" is invalid: metadata.namespace: Required value`, [
        'metadata.namespace: Required value',
      ]);
    }
    if (!type.namespaced) delete object.metadata.namespace;
    const causes = validateObjectMeta(object.metadata as unknown as Record<string, unknown>);
    if (causes.length > 0) {
      throw new StoreError('Invalid', `${type.kind} "${object.metadata.name}" is invalid: ${causes.join(', ')}`, causes);
    }
    return object;
  }

  private validateName(type: ResourceType, object: KubeObject): void {
    const name = object.metadata.name;
    if (!name || name.length > maxObjectNameLength || !dnsSubdomain.test(name)) {
      const cause = `metadata.name: Invalid value: "${name ?? ''}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`;
      throw new StoreError('Invalid', `${type.kind} "${name ?? ''}" is invalid: ${cause}`, [cause]);
    }
  }

  private current(type: ResourceType, object: KubeObject): KubeObject {
    const { name, namespace, resourceVersion } = object.metadata;
    const current = this.bucket(type).get(objectKey(type, namespace, name));
    if (!current) throw notFound(type, name);
    if (!resourceVersion) {
      const cause = 'metadata.resourceVersion: Invalid value: 0: must be specified for an update';
      throw new StoreError('Invalid', `${type.kind} "${name}" is invalid: ${cause}`, [cause]);
    }
    if (resourceVersion !== current.metadata.resourceVersion) {
      throw new StoreError(
        'Conflict',
        `Operation cannot be fulfilled on ${type.plural}.${type.group} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return current;
  }

  private validated(type: ResourceType, object: KubeObject, old?: KubeObject): KubeObject {
    const validator = this.options.validatorFor?.(type);
    if (!validator) return object;
    const defaulted = validator.applyDefaults(object);
    const causes = validator.validate(defaulted, old);
    if (causes.length > 0) {
      throw new StoreError('Invalid', `${type.kind}.${type.group} "${object.metadata.name}" is invalid: ${causes.join(', ')}`, causes);
    }
    return defaulted;
  }

  /** Stores an update, bumping generation on spec changes and finishing deletion once finalizers are gone. */
  private write(type: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    if (current.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.remove(type, next);
      return structuredClone(next);
    }
    if (isDeepStrictEqual(withoutVersion(current), withoutVersion(next))) return structuredClone(current);
    if (!isDeepStrictEqual(userIntent(current), userIntent(next))) {
      next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    return this.commit(type, 'MODIFIED', next);
  }

  private commit(type: ResourceType, eventType: WatchEventType, object: KubeObject): KubeObject {
    object.metadata.resourceVersion = String(++this.revision);
    this.bucket(type).set(objectKey(type, object.metadata.namespace, object.metadata.name), object);
    this.publish(type, eventType, object);
    return structuredClone(object);
  }

  private remove(type: ResourceType, object: KubeObject): void {
    this.bucket(type).delete(objectKey(type, object.metadata.namespace, object.metadata.name));
    const gone = structuredClone(object);
    gone.metadata.resourceVersion = String(++this.revision);
    this.publish(type, 'DELETED', gone);
    this.collectDependents(gone.metadata.uid);
  }

  /** Background cascading deletion, as the garbage collector does for ownerReferences. */
  private collectDependents(ownerUid: string | undefined): void {
    if (!ownerUid) return;
    for (const [typeKey, bucket] of this.objects) {
      for (const dependent of [...bucket.values()]) {
        if (!dependent.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) continue;
        const type = this.types.get(typeKey)!;
        void this.delete(type, dependent.metadata.namespace, dependent.metadata.name).catch(() => undefined);
      }
    }
  }

  private publish(type: ResourceType, eventType: WatchEventType, object: KubeObject): void {
    const logged: LoggedEvent = {
      resourceVersion: this.revision,
      typeKey: resourceKey(type),
      event: { type: eventType, object: structuredClone(object) },
    };
    this.log.push(logged);
    if (this.log.length > this.eventHistory) this.log.splice(0, this.log.length - this.eventHistory);
    for (const watcher of this.watchers) this.deliver(watcher, logged);
  }

  private deliver(watcher: Watcher, logged: LoggedEvent): void {
    if (watcher.typeKey !== logged.typeKey) return;
    const object = logged.event.object;
    if (watcher.namespace !== undefined && object.metadata.namespace !== watcher.namespace) return;
    if (!watcher.matches(object.metadata.labels) || !watcher.matchesFields(object)) return;
    const event = { type: logged.event.type, object: structuredClone(object) };
    setImmediate(() => {
      if (!watcher.stopped) watcher.callbacks.onEvent(event);
    });
  }

  private oldestRetained(): number {
    return this.log[0]?.resourceVersion ?? this.revision + 1;
  }

  /** Events a watch from `resourceVersion` must replay, or 'gone' when they are no longer held. */
  private backlogSince(type: ResourceType, resourceVersion: string): LoggedEvent[] | 'gone' {
    if (resourceVersion === '' || resourceVersion === '0') {
      // "Any version": start with the current state as synthetic ADDED events, as the API server does.
      return [...this.bucket(type).values()].map((object) => ({
        resourceVersion: this.revision,
        typeKey: resourceKey(type),
        event: { type: 'ADDED' as const, object },
      }));
    }
    const from = Number(resourceVersion);
    if (!Number.isInteger(from)) throw new StoreError('Invalid', `invalid resourceVersion "${resourceVersion}"`);
    if (from < this.revision && from + 1 < this.oldestRetained()) return 'gone';
    const typeKey = resourceKey(type);
    return this.log.filter((e) => e.resourceVersion > from && e.typeKey === typeKey);
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}

function objectKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${namespace ?? ''}/${name}` : name;
}

function inNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): boolean {
  return !type.namespaced || namespace === undefined || object.metadata.namespace === namespace;
}

function sortKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function notFound(type: ResourceType, name: string): StoreError {
  return new StoreError('NotFound', `${type.plural}.${type.group || 'core'} "${name}" not found`);
}

function addsFinalizer(current: KubeObject, next: KubeObject): boolean {
  const before = new Set(current.metadata.finalizers ?? []);
  return (next.metadata.finalizers ?? []).some((f) => !before.has(f));
}

function withoutVersion(object: KubeObject): unknown {
  return { ...object, metadata: { ...object.metadata, resourceVersion: undefined } };
}

/** Everything but metadata and status: what the API server's generation tracks. */
function userIntent(object: KubeObject): unknown {
  const { metadata: _metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
  return rest;
}
