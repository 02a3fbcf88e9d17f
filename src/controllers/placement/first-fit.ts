import { describeRejections, noContainerInstances, rejectionOf, type Rejection } from './eligibility';
import type { PlacementDecision, PlacementRequest, Scheduler } from './scheduler';

/**
 * The simplest scheduler that respects the hard requirements: the first eligible instance by name.
 * It honours distinctInstance but not yet memberOf constraints or placementStrategy; the ECS strategies
 * (binpack, spread, random) and memberOf arrive as other Scheduler implementations on the same port.
 */
export class FirstFitScheduler implements Scheduler {
  place(request: PlacementRequest): PlacementDecision {
    if (request.candidates.length === 0) return { reason: noContainerInstances };
    const byName = [...request.candidates].sort((a, b) => compare(a.instance.metadata.name, b.instance.metadata.name));
    const rejections: Rejection[] = [];
    for (const candidate of byName) {
      const rejection = rejectionOf(request, candidate);
      if (rejection === undefined) return { instance: candidate.instance.metadata.name };
      rejections.push(rejection);
    }
    return { reason: describeRejections(rejections) };
  }
}

/** Code-point order, so the choice does not depend on the process locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
