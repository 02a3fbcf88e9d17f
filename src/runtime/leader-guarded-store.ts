/**
 * The store controllers write through: it refuses every write once this replica is no longer the
 * leader, so a deposed leader (stalled renewals, a partition, a frozen process waking up) cannot
 * overwrite what the new leader decides, even from a reconcile that was already in flight.
 * Reads pass through: followers keep their caches warm.
 */

import {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  MergePatch,
  ObjectStore,
  ResourceType,
  StoreError,
  Watch,
  WatchCallbacks,
  WatchOptions,
  type Subresource,
} from '../store/object-store';

export class LeadershipLostError extends StoreError {
  constructor(operation: string, type: ResourceType) {
    super('Forbidden', `refusing ${operation} of ${type.plural}: this replica is not the leader`);
    this.name = 'LeadershipLostError';
  }
}

export class LeaderGuardedStore implements ObjectStore {
  constructor(
    private readonly inner: ObjectStore,
    private readonly isLeader: () => boolean,
  ) {}

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    return this.inner.get<T>(type, namespace, name);
  }

  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ListResult<T>> {
    return this.inner.list<T>(type, namespace, options);
  }

  watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch> {
    return this.inner.watch<T>(type, namespace, options, callbacks);
  }

  async create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    this.ensureLeader('create', type);
    return this.inner.create<T>(type, object);
  }

  async update<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    this.ensureLeader('update', type);
    return this.inner.update<T>(type, object);
  }

  async updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    this.ensureLeader('status update', type);
    return this.inner.updateStatus<T>(type, object);
  }

  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: Subresource): Promise<T> {
    this.ensureLeader('patch', type);
    return this.inner.patch<T>(type, namespace, name, patch, subresource);
  }

  async delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<T | undefined> {
    this.ensureLeader('delete', type);
    return this.inner.delete<T>(type, namespace, name, options);
  }

  private ensureLeader(operation: string, type: ResourceType): void {
    if (!this.isLeader()) throw new LeadershipLostError(operation, type);
  }
}
