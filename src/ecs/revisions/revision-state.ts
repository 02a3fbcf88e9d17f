import { ControllerRevision, isInactive, isTaskDefinitionRevision, latestRevision, parseTaskDefinitionRef } from './revisions';

/**
 * ECS's rules for INACTIVE revisions, for the controllers that start tasks: services and tasks
 * already on an INACTIVE revision keep running on it, and a service on one can still scale, but no
 * new service, deployment or standalone task can use it; a bare `family` means the latest ACTIVE
 * revision. `revisions` is any set holding the family's revisions: the informer's
 * `revisionsOfFamily` (indexes.ts), or a whole namespace.
 */

export type RevisionState = 'ACTIVE' | 'INACTIVE' | 'MISSING';

export type Resolution = { ok: true; taskDefinition: string } | { ok: false; reason: 'TaskDefinitionNotFound' | 'TaskDefinitionInactive'; message: string };

function familyRevisions(revisions: readonly ControllerRevision[], namespace: string | undefined, family: string): ControllerRevision[] {
  return revisions.filter((r) => r.metadata.namespace === namespace && isTaskDefinitionRevision(r) && r.data.family === family);
}

/** The state of `family:N`; a bare family is MISSING, as it names no one revision. */
export function revisionState(revisions: readonly ControllerRevision[], namespace: string | undefined, ref: string): RevisionState {
  const { family, revision } = parseTaskDefinitionRef(ref);
  const stored = familyRevisions(revisions, namespace, family).find((r) => r.revision === revision);
  if (!stored) return 'MISSING';
  return isInactive(stored) ? 'INACTIVE' : 'ACTIVE';
}

/** What a bare `family` resolves to: its highest revision that is not deregistered. */
export function latestActiveRevision(revisions: readonly ControllerRevision[], namespace: string | undefined, family: string): ControllerRevision | undefined {
  return latestRevision(familyRevisions(revisions, namespace, family).filter((r) => !isInactive(r)));
}

/**
 * For something new: a standalone Task (RunTask), a new Service, a deployment to another revision.
 * `family:N` must be ACTIVE; `family` becomes its latest ACTIVE `family:N`.
 */
export function resolveForNewUse(revisions: readonly ControllerRevision[], namespace: string | undefined, ref: string): Resolution {
  const { family, revision } = parseTaskDefinitionRef(ref);
  if (revision === undefined) {
    const latest = latestActiveRevision(revisions, namespace, family);
    if (latest) return { ok: true, taskDefinition: `${family}:${latest.revision}` };
    return familyRevisions(revisions, namespace, family).length > 0
      ? {
          ok: false,
          reason: 'TaskDefinitionInactive',
          message: `task definition family ${family} has no ACTIVE revision: every stored revision is deregistered`,
        }
      : { ok: false, reason: 'TaskDefinitionNotFound', message: `no ACTIVE revision of task definition family ${family}` };
  }
  switch (revisionState(revisions, namespace, ref)) {
    case 'ACTIVE':
      return { ok: true, taskDefinition: ref };
    case 'INACTIVE':
      return {
        ok: false,
        reason: 'TaskDefinitionInactive',
        message: `task definition ${ref} is INACTIVE (deregistered): new services and tasks cannot use it`,
      };
    case 'MISSING':
      return { ok: false, reason: 'TaskDefinitionNotFound', message: `task definition ${ref} not found` };
  }
}

/**
 * What a Service's `spec.taskDefinition` means now, given `running`, the revision of its PRIMARY
 * deployment (`status.taskDefinition`). Deregistering the revision a service runs changes nothing
 * for it: a pinned `family:N` it already runs stays usable, and a bare `family` stays on it rather
 * than rolling back to an older ACTIVE revision. Only a newer registration moves a `family` service
 * on, and a new pin must name an ACTIVE revision.
 */
export function resolveForService(
  revisions: readonly ControllerRevision[],
  namespace: string | undefined,
  ref: string,
  running: string | undefined,
): Resolution {
  if (running !== undefined && revisionState(revisions, namespace, running) === 'INACTIVE') {
    const wanted = parseTaskDefinitionRef(ref);
    const current = parseTaskDefinitionRef(running);
    if (wanted.family === current.family) {
      if (wanted.revision === current.revision) return { ok: true, taskDefinition: running };
      const latest = latestActiveRevision(revisions, namespace, wanted.family);
      if (wanted.revision === undefined && (!latest || latest.revision < current.revision!)) return { ok: true, taskDefinition: running };
    }
  }
  return resolveForNewUse(revisions, namespace, ref);
}
