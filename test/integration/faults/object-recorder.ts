// Every version of every object of some types in one namespace, as the API server held them: one raw
// watch per type from the version listed (not an informer, which would relist and diff after a gap and so
// skip versions), each object kept as the JSON it arrived as. A watch the server simply closed is opened
// again from the last version seen; one that ends with an error (e.g. 410 Gone) is a gap, recorded, so a
// suite that asserts on everything recorded can refuse to pass on less than everything.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeStore } from '../../../src/store/kube/kube-store';
import type { KubeObject, ResourceType, Watch } from '../../../src/store/object-store';
import { testEnv } from '../../env/env';

export interface RecordedVersion {
  kind: string;
  name: string;
  json: string;
}

export class ObjectRecorder {
  readonly versions: RecordedVersion[] = [];
  readonly gaps: string[] = [];
  private readonly watches = new Map<ResourceType, Watch>();
  private readonly store: KubeStore;
  private stopped = false;

  constructor(
    private readonly namespace: string,
    private readonly types: readonly ResourceType[],
  ) {
    const config = new KubeConfig();
    config.loadFromFile(testEnv().kubeconfig);
    this.store = new KubeStore(config, { watchTimeoutSeconds: 3600 });
  }

  async start(): Promise<void> {
    for (const type of this.types) {
      const list = await this.store.list<KubeObject>(type, this.namespace);
      for (const object of list.items) this.record(type, object);
      await this.watchFrom(type, list.resourceVersion);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const watch of this.watches.values()) watch.stop();
  }

  /** Every version recorded of `kind` (a ResourceType's kind), or of every kind. */
  of(kind?: string): RecordedVersion[] {
    return kind === undefined ? this.versions : this.versions.filter((v) => v.kind === kind);
  }

  private record(type: ResourceType, object: KubeObject): void {
    this.versions.push({ kind: type.kind, name: object.metadata.name, json: JSON.stringify(object) });
  }

  private async watchFrom(type: ResourceType, resourceVersion: string): Promise<void> {
    let last = resourceVersion;
    const watch = await this.store.watch<KubeObject>(
      type,
      this.namespace,
      { resourceVersion },
      {
        onEvent: ({ object }) => {
          last = object.metadata.resourceVersion ?? last;
          this.record(type, object);
        },
        onBookmark: (version) => (last = version),
        onClose: (error) => {
          if (this.stopped) return;
          if (error) this.gaps.push(`${type.kind} watch ended after ${last}: ${error.message}`);
          else void this.watchFrom(type, last).catch((e: Error) => this.gaps.push(`${type.kind} watch not reopened: ${e.message}`));
        },
      },
    );
    this.watches.set(type, watch);
  }
}
