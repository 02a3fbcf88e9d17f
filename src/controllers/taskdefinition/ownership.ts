import type { TaskDefinition } from '../../api';
import { ControllerRevision, registrantUid } from '../../ecs/revisions/revisions';

/**
 * Which TaskDefinition registers a family's revisions. ECS has one revision history per family; two
 * objects naming one family (`web` and `web-copy` with spec.family web) would otherwise each register
 * its own spec over the other's, a revision per reconcile, without end.
 *
 * The owner is the living claimant that registered the family's stored revisions, else the oldest
 * living claimant (creationTimestamp, then name). A claimant being deleted owns nothing: its family
 * passes at once to a waiting claimant, which goes on numbering from the highest revision stored, so
 * a family's revision numbers keep increasing across owners, as ECS users expect.
 */
export function familyOwner(claimants: TaskDefinition[], familyRevisions: ControllerRevision[]): TaskDefinition | undefined {
  const living = claimants.filter((td) => !td.metadata.deletionTimestamp).sort(oldestFirst);
  const registrants = new Set(familyRevisions.map(registrantUid));
  return living.find((td) => registrants.has(td.metadata.uid)) ?? living[0];
}

function oldestFirst(a: TaskDefinition, b: TaskDefinition): number {
  const [createdA, createdB] = [Date.parse(a.metadata.creationTimestamp ?? ''), Date.parse(b.metadata.creationTimestamp ?? '')];
  if (createdA !== createdB) return createdA - createdB;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}
