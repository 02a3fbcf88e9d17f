/**
 * The Markdown table of BENCHMARKS.md from the JSON lines a run printed: one row per line, a failed
 * case with the reason in place of its figures, a scaled run's size in the case column.
 */
import type { Bound, ErrorLine, ResultLine, Target } from './report';

export type Line = ResultLine | ErrorLine;

/** Parses a run's stdout: one JSON object per non-empty line; anything else is an error naming the line. */
export function parseLines(text: string): Line[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`line ${number} is not JSON: ${line.slice(0, 80)}`);
      }
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { case?: unknown }).case !== 'string') {
        throw new Error(`line ${number} is not a bench result (no case): ${line.slice(0, 80)}`);
      }
      return parsed as Line;
    });
}

function bound(name: string, b: Bound | undefined, unit: string): string[] {
  return b ? [`${name} ${b.op === '<=' ? '≤' : '<'} ${b.limit}${unit}`] : [];
}

export function targetText(t: Target, unit: string): string {
  return [...bound('value', t.value, ` ${unit}`), ...bound('ratio', t.ratio, '')].join(', ');
}

function caseText(line: Line): string {
  const scale = (line.details as { scale?: unknown } | undefined)?.scale;
  return typeof scale === 'number' ? `${line.case} (scale ${scale})` : line.case;
}

function row(line: Line): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  if ('error' in line) return `| ${caseText(line)} | — | — | — | — | — | **error**: ${escape(line.error)} |`;
  const { unit } = line;
  return `| ${caseText(line)} | ${line.value} | ${unit} | ${line.baseline} | ${line.ratio ?? '—'} | ${targetText(line.target, unit)} | ${line.met ? 'yes' : '**no**'} |`;
}

export function renderTable(lines: Line[]): string {
  const header = '| case | value | unit | baseline | ratio | target | met? |\n|---|---|---|---|---|---|---|\n';
  return header + lines.map((line) => `${row(line)}\n`).join('');
}
