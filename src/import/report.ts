/**
 * What an import tells the user besides the manifests: one line per field of the ECS input, the field's path
 * first (`containerDefinitions[1].linuxParameters: not imported: …`), so that nothing is dropped silently.
 */

export interface ReportLine {
  /** The field's path in the ECS input, e.g. `containerDefinitions[0].secrets[1].valueFrom` or `services[0].loadBalancers`. */
  path: string;
  message: string;
}

/** The lines of one import, in the order they were found. */
export class Report {
  constructor(
    private readonly prefix = '',
    readonly lines: ReportLine[] = [],
  ) {}

  add(path: string, message: string): void {
    this.lines.push({ path: this.at(path), message });
  }

  /** A report that writes into this one, its paths under `path` (`services[0]`). */
  under(path: string): Report {
    // The child shares this report's lines, so the order of findings is kept across children.
    return new Report(this.at(path), this.lines);
  }

  /** `path` under this report's prefix: `services[0]` + `loadBalancers`, or a bare index `[0]`. */
  at(path: string): string {
    if (this.prefix === '') return path;
    if (path === '') return this.prefix;
    return path.startsWith('[') ? `${this.prefix}${path}` : `${this.prefix}.${path}`;
  }
}

export function formatReportLine(line: ReportLine): string {
  return line.path === '' ? line.message : `${line.path}: ${line.message}`;
}

/**
 * The input cannot become valid manifests: each problem is a line like a report line (field path first),
 * e.g. `containerDefinitions[0].resourceRequirements: Forbidden: resourceRequirements is not supported: …`.
 */
export class ImportError extends Error {
  constructor(
    readonly summary: string,
    readonly problems: string[] = [],
  ) {
    super([summary, ...problems].join('\n'));
    this.name = 'ImportError';
  }
}
