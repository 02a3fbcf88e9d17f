import { createHash } from 'node:crypto';
import type { KubeObject } from '../../store/object-store';

/**
 * Task definition revisions. ECS stores every registration as an immutable `family:N`; Berth
 * stores each as an apps/v1 ControllerRevision (the object DaemonSets and StatefulSets keep their
 * history in: `data` and `revision` are immutable), owned by its TaskDefinition.
 */

export const familyLabel = 'berth.dev/family';
export const revisionLabel = 'berth.dev/revision';
export const specHashAnnotation = 'berth.dev/spec-hash';
export const familyAnnotation = 'berth.dev/family';

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

export type RevisionPlan = { action: 'current'; revision: ControllerRevision } | { action: 'register'; revision: number; hash: string };

/**
 * What registering `spec` means given the family's stored revisions. As in ECS, a registration is
 * a new revision even when it equals an older one (web:1, then web:2, then web:1's content again
 * gives web:3); only a spec identical to the LATEST revision registers nothing, which is what makes
 * the reconcile idempotent. Numbers never go back: a family deleted and registered again goes on
 * from the highest revision still stored.
 */
export function planRevision(spec: unknown, existing: ControllerRevision[]): RevisionPlan {
  const hash = specHash(spec);
  const latest = latestRevision(existing);
  if (latest && latest.metadata.annotations?.[specHashAnnotation] === hash) return { action: 'current', revision: latest };
  return { action: 'register', revision: (latest?.revision ?? 0) + 1, hash };
}

export function latestRevision(revisions: ControllerRevision[]): ControllerRevision | undefined {
  return revisions.reduce<ControllerRevision | undefined>((latest, r) => (!latest || r.revision > latest.revision ? r : latest), undefined);
}

export function revisionsOfFamily(revisions: ControllerRevision[], family: string): ControllerRevision[] {
  return revisions.filter((r) => r.metadata.labels?.[familyLabel] === familySlug(family) && r.data?.family === family);
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
      ownerReferences: [
        { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ],
    },
    revision,
    data: { family, spec: structuredClone(owner.spec) as Record<string, unknown> },
  };
}
