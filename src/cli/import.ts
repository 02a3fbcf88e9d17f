import { readFile } from 'node:fs/promises';
import { dump } from 'js-yaml';
import { formatReportLine, ImportError, importEcs } from '../import';

export interface ImportFlags {
  /** The ECS JSON file, or `-` for stdin. */
  file: string;
  namespace?: string;
  cluster?: string;
  output: 'yaml' | 'json';
}

export interface ImportOutput {
  /** Manifests, as written. */
  out(text: string): void;
  /** One line of the report or of an error. */
  err(line: string): void;
  readStdin(): Promise<string>;
}

/**
 * `berth import FILE`: the manifests on stdout (YAML documents, or a kubectl `v1 List` with -o json), the report on
 * stderr one line per field, exit 0; an input that cannot become valid manifests writes nothing on stdout and exits 1.
 */
export async function runImport(flags: ImportFlags, output: ImportOutput): Promise<number> {
  let text: string;
  try {
    text = flags.file === '-' ? await output.readStdin() : await readFile(flags.file, 'utf8');
  } catch (error) {
    output.err(`error: ${flags.file}: ${(error as Error).message}`);
    return 1;
  }
  try {
    const { manifests, report } = importEcs(text, flags.file === '-' ? 'stdin' : flags.file, { namespace: flags.namespace, cluster: flags.cluster });
    output.out(
      flags.output === 'json'
        ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }, null, 2)}\n`
        : manifests.map((manifest) => dump(manifest, { lineWidth: -1, noRefs: true })).join('---\n'),
    );
    for (const line of report) output.err(formatReportLine(line));
    return 0;
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    output.err(`error: ${error.summary}`);
    for (const problem of error.problems) output.err(problem);
    return 1;
  }
}
