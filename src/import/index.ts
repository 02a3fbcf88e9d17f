/**
 * `berth import`: ECS JSON (a task definition, describe-task-definition or describe-services output) as Berth
 * manifests, and a report of every field that was mapped, left out or is output-only. Pure: text in, objects out.
 * An input that cannot become valid manifests throws an ImportError and yields nothing.
 */
import { detectShape, isObject, parseJson, type JsonObject } from './read-input';
import { ImportError, Report, type ReportLine } from './report';
import type { ServiceAccountManifest } from './roles';
import type { Manifest } from './schema-fit';
import { SecretKeys } from './secrets';
import { importService } from './service';
import { importTaskDefinition } from './task-definition';

export { ImportError, formatReportLine, type ReportLine } from './report';
export type { Manifest } from './schema-fit';
export type { ServiceAccountManifest } from './roles';

export interface ImportOptions {
  /** metadata.namespace of every manifest; none by default (kubectl apply's namespace then). */
  namespace?: string;
  /** The Berth Cluster of imported services (default: the cluster of their clusterArn). */
  cluster?: string;
}

export interface ImportResult {
  /** ServiceAccounts first, then TaskDefinitions, then Services: the order they can be applied in. */
  manifests: (Manifest | ServiceAccountManifest)[];
  report: ReportLine[];
}

/** Imports `text`, read from `source` (a file name, or `-` for stdin, named in errors). */
export function importEcs(text: string, source: string, options: ImportOptions = {}): ImportResult {
  const input = detectShape(parseJson(text, source), source);
  const report = new Report();
  const secretKeys = new SecretKeys();
  const manifests: (Manifest | ServiceAccountManifest)[] = [];
  try {
    switch (input.shape) {
      case 'task-definition':
      case 'describe-task-definition': {
        const describe = input.shape === 'describe-task-definition';
        if (describe) notImported(input.others, report, 'not part of the output of describe-task-definition');
        const imported = importTaskDefinition(
          input.taskDefinition,
          describe ? report.under('taskDefinition') : report,
          secretKeys,
          describe ? { value: input.tags, report: report.under('tags') } : undefined,
        );
        if (imported.serviceAccount) manifests.push(imported.serviceAccount);
        manifests.push(imported.taskDefinition);
        if (options.cluster !== undefined) report.add('', `--cluster ${options.cluster} not used: a task definition belongs to no cluster`);
        break;
      }
      case 'describe-services': {
        notImported(input.others, report, 'not part of the output of describe-services');
        for (const [index, failure] of (Array.isArray(input.failures) ? input.failures : []).entries()) {
          const { arn, reason } = isObject(failure) ? failure : {};
          report.add(`failures[${index}]`, `not imported: ECS did not describe ${String(arn)} (${String(reason)})`);
        }
        if (input.services.length === 0) throw new ImportError('the input describes no service');
        for (const [index, service] of input.services.entries()) {
          if (!isObject(service)) throw new ImportError(`services[${index}]: Invalid value: not an object`);
          manifests.push(importService(service, report.under(`services[${index}]`), options));
        }
        break;
      }
    }
  } catch (error) {
    if (error instanceof ImportError) throw new ImportError(`${source}: ${error.summary}`, error.problems);
    throw error;
  }
  const { namespace } = options;
  // Next to the name, where kubectl prints it.
  if (namespace !== undefined) {
    for (const manifest of manifests) {
      const { name, ...rest } = manifest.metadata;
      manifest.metadata = { name, namespace, ...rest };
    }
  }
  return { manifests, report: report.lines };
}

function notImported(fields: JsonObject, report: Report, why: string): void {
  for (const field of Object.keys(fields)) report.add(field, `not imported: ${why}`);
}
