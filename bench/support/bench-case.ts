/** The shape of one benchmark case, and what the runner hands it. */
import type { OwnedResource } from './protocol';
import type { Measurement } from './report';

export interface CaseContext {
  /** Aborted when the case's time bound is reached: every wait rejects, and the case unwinds. */
  signal: AbortSignal;
  /** Fraction of the full size (1 for the real figures): `--scale 0.1` runs a tenth of every count, to try the bench itself quickly. */
  scale: number;
  /** Registers a cleanup; the runner runs them all, last first, when the case ends, fails or times out. */
  defer: (cleanup: () => Promise<void> | void) => void;
  /** Records figures as they are measured, so a case that fails later still reports them in its error line. */
  note: (details: Record<string, unknown>) => void;
  /** Declares something that must not outlive the case: if its process dies before cleaning up, the runner removes it. */
  owns: (resource: OwnedResource) => void;
}

export interface BenchCase {
  /** `npm run bench -- NAME` runs the cases named NAME or NAME/… */
  name: string;
  /** Upper bound of the whole case, cleanup excluded. */
  timeoutMs: number;
  run(context: CaseContext): Promise<Measurement[]>;
}
