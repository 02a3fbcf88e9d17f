/**
 * The ObjectStore port: everything Berth's controllers know about persistence.
 *
 * Two adapters implement it with the same semantics: `kube/` talks to a real kube-apiserver,
 * `memory/` is the embedded in-process store behind `berth local` and fast tests. The contract
 * suite in test/contract runs the same assertions against both.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** Identifies one resource of the API: what a REST path and an informer are keyed by. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Has a status subresource: updates ignore status, updateStatus ignores everything else. */
  statusSubresource: boolean;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function resourceKey(type: ResourceType): string {
  return `${type.plural}.${type.group || 'core'}`;
}

export interface SelectorOptions {
  /** Equality-based selector, e.g. `app=web,tier=front`. */
  labelSelector?: string;
  /** `metadata.name=NAME` and/or `metadata.namespace=NS`, as the API server takes them for every resource. */
  fieldSelector?: string;
}

export interface ListOptions extends SelectorOptions {
  /** At most this many items per page; the result's `continue` fetches the next. A store may return more. */
  limit?: number;
  /** The token of the previous page. An expired token fails with 410 Gone: list again from the start. */
  continue?: string;
}

export interface ListResult<T extends KubeObject> {
  items: T[];
  resourceVersion: string;
  /** Present when more pages follow. */
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T extends KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions extends SelectorOptions {
  /** Start after this resourceVersion; a version the store no longer holds ends the watch with 410 Gone. */
  resourceVersion: string;
}

export interface Watch {
  /** Ends the watch; `onClose` is not called for a stop the caller asked for. */
  stop(): void;
}

export interface WatchCallbacks<T extends KubeObject> {
  onEvent(event: WatchEvent<T>): void;
  /**
   * A bookmark: nothing changed up to `resourceVersion`, and the watch is alive. The API server sends one
   * about every minute to watches that ask for them; a store that never does simply never calls this.
   */
  onBookmark?(resourceVersion: string): void;
  /** The watch ended: `error` is undefined when the server simply closed it (timeout), a StoreError otherwise. */
  onClose(error?: Error): void;
}

export interface DeleteOptions {
  /** Refuse the delete with 409 unless the object still has this uid. */
  preconditionUid?: string;
  /** Seconds a Pod's containers get between SIGTERM and SIGKILL (Kubernetes' graceful deletion); the kind's default when absent. */
  gracePeriodSeconds?: number;
}

/** The subresources Berth writes: status, and the /scale of a node group's scale target. */
export type Subresource = 'status' | 'scale';

/** A JSON merge patch (RFC 7386): null removes a field, objects merge, everything else replaces. */
export type MergePatch = Record<string, unknown>;

export interface ObjectStore {
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ListResult<T>>;
  watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch>;
  /** 409 AlreadyExists when the name is taken. */
  create<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** Replaces spec and metadata; 409 Conflict when metadata.resourceVersion is stale. Status is ignored when the type has a status subresource. */
  update<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** Writes only status; 409 Conflict when metadata.resourceVersion is stale. */
  updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T>;
  /** Merge patch of the main resource, or of the subresource named (status; a scale target's scale). */
  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: Subresource): Promise<T>;
  /** Removes at once, or sets deletionTimestamp while finalizers remain. Resolves with the object as it stands after the call (undefined once gone). */
  delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<T | undefined>;
}

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Invalid' | 'Forbidden' | 'Unavailable';

const codes: Record<StoreErrorReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Invalid: 422,
  Forbidden: 403,
  Unavailable: 503,
};

/** The one error type both adapters throw, shaped like a metav1.Status. */
export class StoreError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    /** For Invalid: one entry per refused field, e.g. `spec.desiredCount: must be >= 0`. */
    readonly causes: string[] = [],
  ) {
    super(message);
    this.name = 'StoreError';
    this.code = codes[reason];
  }
}

export function isStoreError(error: unknown, reason?: StoreErrorReason): error is StoreError {
  return error instanceof StoreError && (reason === undefined || error.reason === reason);
}
