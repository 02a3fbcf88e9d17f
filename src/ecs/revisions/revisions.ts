import { createHash } from 'node:crypto';
import type { KubeObject } from '../../store/object-store';

/**
 * Task definition revisions. ECS stores every registration as an immutable `family:N`; Berth
 * stores each as an apps/v1 ControllerRevision (the object DaemonSets and StatefulSets keep their
 * history in: `data` and `revision` are immutable), owned by its TaskDefinition.
 *
 * A revision is ACTIVE until it is deleted. Deleting it (`kubectl delete controllerrevision web-2`,
 * or deleting the whole TaskDefinition) is ECS's DeregisterTaskDefinition: the finalizer every
 * revision carries keeps it, INACTIVE (deletionTimestamp set), while anything still needs it.
 */

export const familyLabel = 'berth.dev/family';
export const revisionLabel = 'berth.dev/revision';
export const specHashAnnotation = 'berth.dev/spec-hash';
export const familyAnnotation = 'berth.dev/family';
export const revisionFinalizer = 'berth.dev/task-definition-revision';

export interface RevisionData {
  family: string;
  spec: Record<string, unknown>;
}

export interface ControllerRevision extends KubeObject {
  revision: number;
  data: RevisionData;
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * ECS families allow upper case and underscores (up to 255 characters); object names and label
 * values do not. A family that is already a valid DNS label is used as is, anything else is
 * sanitised and suffixed with a hash of the exact family, so `Web` and `web` never share a name.
 */
export function familySlug(family: string): string {
  if (/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/.test(family)) return family;
  const readable = family
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return `${readable || 'family'}-${shortHash(family, 8)}`;
}

/** Deterministic, so a controller restarted between create and status update finds its own work. */
export function revisionName(family: string, revision: number): string {
  return `${familySlug(family)}-${revision}`;
}

export function familyOf(taskDefinition: { metadata: { name: string }; spec: { family?: string } }): string {
  return taskDefinition.spec.family ?? taskDefinition.metadata.name;
}

/** `family` or `family:N`. */
export function parseTaskDefinitionRef(ref: string): { family: string; revision?: number } {
  const separator = ref.lastIndexOf(':');
  if (separator < 0) return { family: ref };
  return { family: ref.slice(0, separator), revision: Number(ref.slice(separator + 1)) };
}

/** Canonical JSON (sorted keys) so equal specs hash equally whatever order they were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function specHash(spec: unknown): string {
  return shortHash(canonical(spec), 16);
}

/** Deregistered: deleted, and kept only while something still needs it. */
export function isInactive(revision: ControllerRevision): boolean {
  return revision.metadata.deletionTimestamp !== undefined;
}

/** `family:N`, as services and tasks name it. */
export function revisionRef(revision: ControllerRevision): string {
  return `${revision.data.family}:${revision.revision}`;
}

/** The uid of the TaskDefinition that registered the revision. */
export function registrantUid(revision: KubeObject): string | undefined {
  return revision.metadata.ownerReferences?.find((ref) => ref.controller)?.uid;
}

/** A ControllerRevision Berth wrote for a task definition, not one of a DaemonSet or StatefulSet. */
export function isTaskDefinitionRevision(object: KubeObject & { data?: Partial<RevisionData> }): object is ControllerRevision {
  const family = object.data?.family;
  return typeof family === 'string' && object.metadata.labels?.[familyLabel] === familySlug(family);
}

export type RevisionPlan =
  | { action: 'current'; revision: ControllerRevision }
  | { action: 'deregistered'; revision: ControllerRevision }
  | { action: 'register'; revision: number; hash: string };

/**
 * What registering `spec` for the TaskDefinition `registrant` means, given every revision of the
 * family still stored (ACTIVE and INACTIVE). As in ECS, a registration is a new revision even when
 * it equals an older one (web:1, then web:2, then web:1's content again gives web:3); only a spec
 * identical to the LATEST revision, registered by this same object, registers nothing, which is what
 * makes the reconcile idempotent. When that latest revision was deregistered, registering its spec
 * again would silently undo the deregistration: the spec stays unregistered until it changes.
 * Numbers never go back: the next is one above the highest revision still stored, INACTIVE ones
 * included (retention.ts keeps the newest of a living family for exactly this).
 */
export function planRevision(spec: unknown, familyRevisions: ControllerRevision[], registrant: string): RevisionPlan {
  const hash = specHash(spec);
  const latest = latestRevision(familyRevisions);
  if (latest && latest.metadata.annotations?.[specHashAnnotation] === hash && registrantUid(latest) === registrant) {
    return { action: isInactive(latest) ? 'deregistered' : 'current', revision: latest };
  }
  return { action: 'register', revision: (latest?.revision ?? 0) + 1, hash };
}

export function latestRevision(revisions: ControllerRevision[]): ControllerRevision | undefined {
  return revisions.reduce<ControllerRevision | undefined>((latest, r) => (!latest || r.revision > latest.revision ? r : latest), undefined);
}

export function buildRevision(owner: KubeObject & { spec: object }, family: string, revision: number, hash: string): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(family, revision),
      namespace: owner.metadata.namespace!,
      labels: { [familyLabel]: familySlug(family), [revisionLabel]: String(revision) },
      annotations: { [specHashAnnotation]: hash, [familyAnnotation]: `${family}:${revision}` },
      finalizers: [revisionFinalizer],
      ownerReferences: [
        { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    revision,
    data: { family, spec: structuredClone(owner.spec) as Record<string, unknown> },
  };
}
