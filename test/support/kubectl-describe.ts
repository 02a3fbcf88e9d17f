// `kubectl describe` as a user reads it: the Events table at its end, parsed into rows.
import { kubectlOk } from '../env/env';

export interface DescribedEvent {
  type: string;
  reason: string;
  from: string;
  message: string;
}

/**
 * The rows of the Events table of `kubectl describe RESOURCE NAME -n NAMESPACE`. kubectl prints
 *   Events:
 *     Type     Reason              Age   From     Message
 *     ----     ------              ----  ----     -------
 *     Warning  DeploymentRollback  3s    berth    service app is rolling back to app:1: …
 * with columns padded to the widest cell; the header's dashes give each column's start.
 */
export async function describedEvents(resource: string, name: string, namespace: string): Promise<DescribedEvent[]> {
  const output = await kubectlOk(['describe', resource, name, '-n', namespace]);
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Events:'));
  if (start < 0) throw new Error(`kubectl describe ${resource} ${name} printed no Events section:\n${output}`);
  const dashes = lines[start + 2];
  if (dashes === undefined || !/^\s+-+\s+-+/.test(dashes)) return []; // "Events: <none>"
  const starts = [...dashes.matchAll(/-+/g)].map((match) => match.index);
  const cell = (line: string, column: number) => line.slice(starts[column], starts[column + 1]).trim();
  return lines
    .slice(start + 3)
    .filter((line) => line.trim() !== '')
    .map((line) => ({ type: cell(line, 0), reason: cell(line, 1), from: cell(line, 3), message: line.slice(starts[4]).trim() }));
}
