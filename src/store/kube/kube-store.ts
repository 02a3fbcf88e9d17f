import type { KubeConfig } from '@kubernetes/client-node';
import {
  apiVersionOf,
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  MergePatch,
  ObjectStore,
  ResourceType,
  SelectorOptions,
  StoreError,
  Watch,
  WatchCallbacks,
  WatchOptions,
  type Subresource,
} from '../object-store';
import { RestClient, toStoreError } from './rest-client';

interface ListResponse<T> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

/**
 * The production adapter: the Kubernetes API server is the store. Watches are server-side
 * timed out (so a silently dead connection is noticed at the latest then); resuming, relisting
 * on 410 Gone and stall detection are the shared informer's job, not this adapter's.
 */
export class KubeStore implements ObjectStore {
  private readonly rest: RestClient;

  constructor(
    config: KubeConfig,
    private readonly options: { watchTimeoutSeconds?: number; fieldManager?: string } = {},
  ) {
    this.rest = new RestClient(config);
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.rest.request<T>('GET', objectPath(type, namespace, name));
    } catch (error) {
      if (error instanceof StoreError && error.reason === 'NotFound') return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ListResult<T>> {
    const query = selectorQuery(options);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    const response = await this.rest.request<ListResponse<T>>('GET', withQuery(collectionPath(type, namespace), query));
    // List items come without apiVersion/kind; callers expect whole objects.
    const items = response.items.map((item) => ({ ...item, apiVersion: apiVersionOf(type), kind: type.kind }));
    return { items, resourceVersion: response.metadata.resourceVersion, ...(response.metadata.continue ? { continue: response.metadata.continue } : {}) };
  }

  async watch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: WatchOptions, callbacks: WatchCallbacks<T>): Promise<Watch> {
    const query = selectorQuery(options);
    query.set('watch', 'true');
    query.set('resourceVersion', options.resourceVersion);
    // Bookmarks tell a quiet watch from a dead one (the informer's watchdog) and move its resourceVersion on.
    query.set('allowWatchBookmarks', 'true');
    query.set('timeoutSeconds', String(this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300)));
    let closedWithError: Error | undefined;
    const handle = await this.rest.stream(
      withQuery(collectionPath(type, namespace), query),
      (document) => {
        const event = document as { type: string; object: KubeObject };
        if (event.type === 'ERROR') {
          // The server ends the watch after an ERROR event (410 Gone after etcd compaction, most often).
          const status = event.object as unknown as { code?: number };
          closedWithError = toStoreError(status.code ?? 500, event.object);
          return;
        }
        if (event.type === 'BOOKMARK') {
          const resourceVersion = event.object.metadata?.resourceVersion;
          if (resourceVersion) callbacks.onBookmark?.(resourceVersion);
          return;
        }
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
          callbacks.onEvent({ type: event.type, object: event.object as T });
        }
      },
      (error) => callbacks.onClose(closedWithError ?? error),
    );
    return { stop: () => handle.abort() };
  }

  create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const { namespace } = object.metadata;
    return this.rest.request<T>('POST', withQuery(collectionPath(type, namespace), this.writeQuery()), withTypeMeta(type, object));
  }

  update<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const { namespace, name } = object.metadata;
    return this.rest.request<T>('PUT', withQuery(objectPath(type, namespace, name), this.writeQuery()), withTypeMeta(type, object));
  }

  updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const { namespace, name } = object.metadata;
    return this.rest.request<T>('PUT', withQuery(objectPath(type, namespace, name) + '/status', this.writeQuery()), withTypeMeta(type, object));
  }

  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: MergePatch, subresource?: Subresource): Promise<T> {
    const path = objectPath(type, namespace, name) + (subresource ? `/${subresource}` : '');
    return this.rest.request<T>('PATCH', withQuery(path, this.writeQuery()), patch, 'application/merge-patch+json');
  }

  async delete<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<T | undefined> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(options.preconditionUid ? { preconditions: { uid: options.preconditionUid } } : {}),
      ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
    };
    const result = await this.rest.request<T | { kind: 'Status' }>('DELETE', objectPath(type, namespace, name), body);
    if (result.kind === 'Status') return undefined;
    const object = result as T;
    // The API server answers with the object either way: it is still there only while finalizers hold it.
    return object.metadata.deletionTimestamp && (object.metadata.finalizers ?? []).length > 0 ? object : undefined;
  }

  /**
   * Strict field validation, as kubectl asks for: without it the API server drops fields its schema does
   * not declare (a typo such as `desiredcount`) and accepts the rest, silently; with it the write is
   * refused naming the field, as the embedded store refuses it.
   */
  private writeQuery(): URLSearchParams {
    return new URLSearchParams({ fieldManager: this.options.fieldManager ?? 'berth', fieldValidation: 'Strict' });
  }
}

function groupPath(type: ResourceType): string {
  return type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
}

function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const scope = type.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPath(type)}${scope}/${type.plural}`;
}

export function objectPath(type: ResourceType, namespace: string | undefined, name: string): string {
  if (type.namespaced && namespace === undefined) throw new StoreError('Invalid', `${type.kind} "${name}": a namespace is required`);
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

function selectorQuery(options: SelectorOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.labelSelector) query.set('labelSelector', options.labelSelector);
  if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
  return query;
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

function withTypeMeta<T extends KubeObject>(type: ResourceType, object: T): T {
  return { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
}
