/** metav1.Condition, as every Berth status carries them. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type DesiredCondition = Omit<Condition, 'lastTransitionTime'>;

/**
 * Merges `desired` into `existing` the way apimachinery's meta.SetStatusCondition does:
 * lastTransitionTime moves only when status flips, so an unchanged world writes an unchanged status.
 */
export function setConditions(existing: Condition[] | undefined, desired: DesiredCondition[], now: Date): Condition[] {
  const result = [...(existing ?? [])];
  for (const condition of desired) {
    const index = result.findIndex((c) => c.type === condition.type);
    const previous = index >= 0 ? result[index] : undefined;
    const lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const merged = { ...condition, lastTransitionTime };
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}
