/**
 * What a case's process tells the runner over the IPC channel. Results travel here rather than on the
 * child's stdout, so nothing a library prints can ever end up among the runner's JSON lines.
 */
import type { Measurement } from './report';

/** Something a case created that must not outlive it: a namespace on the API server, or Docker containers labelled with a namespace. */
export interface OwnedResource {
  namespace: string;
  on: 'kube-apiserver' | 'docker';
}

export type CaseMessage =
  | { type: 'result'; measurement: Measurement }
  | { type: 'note'; details: Record<string, unknown> }
  | { type: 'owns'; resource: OwnedResource }
  | { type: 'failed'; error: string };

/** What the runner tells a case's process: stop now (time is up, or the run was interrupted), cleaning up. */
export interface StopMessage {
  type: 'stop';
  reason: string;
}
