/** The ECS cluster query language of memberOf placement constraints: parse (with the column of an error), compile, evaluate. */
import { compile, readsTasks, type Predicate } from './evaluate';
import { parseClusterQuery, type QueryError } from './parser';

export type { Operator, QueryNode, Subject } from './ast';
export type { InstanceFacts, Predicate } from './evaluate';
export { formatClusterQuery } from './format';
export { parseClusterQuery, type ParseResult, type QueryError } from './parser';

/** A parsed, compiled expression: `matches` is cheap enough to call for thousands of instances per placement. */
export interface CompiledClusterQuery {
  readonly text: string;
  /** Reads runningTasksCount or task:group, which change as tasks are placed: not to be cached per instance across placements. */
  readonly readsTasks: boolean;
  readonly matches: Predicate;
}

export type CompileResult = { ok: true; query: CompiledClusterQuery } | { ok: false; error: QueryError };

export function compileClusterQuery(text: string): CompileResult {
  const parsed = parseClusterQuery(text);
  if (!parsed.ok) return parsed;
  return { ok: true, query: { text, readsTasks: readsTasks(parsed.ast), matches: compile(parsed.ast) } };
}

/** What is wrong with an expression, with its column, or undefined when it parses: for validating manifests. */
export function clusterQueryProblem(text: string): string | undefined {
  const parsed = parseClusterQuery(text);
  return parsed.ok ? undefined : parsed.error.message;
}
