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
} from '../../../store/object-store';

export type WriteVerb = 'create' | 'update' | 'updateStatus' | 'patch' | 'delete';

export interface Write {
  verb: WriteVerb;
  kind: string;
  name: string;
}

/**
 * An ObjectStore that passes everything on and records each write that succeeded, so a test can
 * tell a controller that converges from one that writes without end.
 */
export class WriteLog implements ObjectStore {
  readonly writes: Write[] = [];

  constructor(private readonly inner: ObjectStore) {}

  count(verb: WriteVerb, kind: string, name?: string): number {
    return this.writes.filter((w) => w.verb === verb && w.kind === kind && (name === undefined || w.name === name)).length;
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
    return this.record('create', type, object.metadata.name, this.inner.create(type, object));
  }

  update<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.record('update', type, object.metadata.name, this.inner.update(type, object));
  }

  updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    return this.record('updateStatus', type, object.metadata.name, this.inner.updateStatus(type, object));
  }

  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: 'status'): Promise<T> {
    return this.record('patch', type, name, this.inner.patch<T>(type, namespace, name, patch, subresource));
  }

  delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<T | undefined> {
    return this.record('delete', type, name, this.inner.delete<T>(type, namespace, name, options));
  }

  private async record<R>(verb: WriteVerb, type: ResourceType, name: string, write: Promise<R>): Promise<R> {
    const result = await write;
    this.writes.push({ verb, kind: type.kind, name });
    return result;
  }
}
