import type { TaskDefinition } from '../../../api';
import { buildRevision, ControllerRevision, familyOf } from '../revisions';

/** A TaskDefinition as the store returns it: uid and creationTimestamp set. */
export function storedTaskDefinition(name: string, options: { family?: string; created?: string; deleting?: boolean } = {}): TaskDefinition {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'TaskDefinition',
    metadata: {
      name,
      namespace: 'team-a',
      uid: `uid-${name}`,
      creationTimestamp: options.created ?? '2025-01-01T00:00:00Z',
      ...(options.deleting ? { deletionTimestamp: '2025-01-02T00:00:00Z' } : {}),
    },
    spec: { ...(options.family ? { family: options.family } : {}), containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] },
  } as unknown as TaskDefinition;
}

/** Revision `n` of the registrant's family as the controller stores it; `inactive` as a deleted one holds. */
export function storedRevision(registrant: TaskDefinition, n: number, options: { inactive?: boolean; hash?: string } = {}): ControllerRevision {
  const revision = buildRevision(registrant, familyOf(registrant), n, options.hash ?? `hash-${n}`);
  return options.inactive ? { ...revision, metadata: { ...revision.metadata, deletionTimestamp: '2025-01-03T00:00:00Z' } } : revision;
}
