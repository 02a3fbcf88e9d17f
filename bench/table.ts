/**
 * `npm run -s bench:table -- results.jsonl`: the Markdown table of BENCHMARKS.md from the JSON lines a
 * run printed (a file, or stdin when none is given). A failed case gets a row saying why.
 */
import { readFileSync } from 'node:fs';
import type { Bound, ErrorLine, ResultLine, Target } from './support/report';

function bound(name: string, b: Bound | undefined, unit: string): string[] {
  return b ? [`${name} ${b.op === '<=' ? '≤' : '<'} ${b.limit}${unit}`] : [];
}

function target(t: Target, unit: string): string {
  return [...bound('value', t.value, ` ${unit}`), ...bound('ratio', t.ratio, '')].join(', ');
}

function row(line: ResultLine | ErrorLine): string {
  if ('error' in line) return `| ${line.case} | — | — | — | — | **error**: ${line.error} |`;
  const { unit } = line;
  return `| ${line.case} | ${line.value} ${unit} | ${line.baseline} ${unit} | ${line.ratio ?? '—'} | ${target(line.target, unit)} | ${line.met ? 'yes' : '**no**'} |`;
}

const file = process.argv[2];
const text = readFileSync(file ?? 0, 'utf8');
const lines = text
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as ResultLine | ErrorLine);
process.stdout.write('| case | value | baseline | ratio | target | met? |\n|---|---|---|---|---|---|\n');
for (const line of lines) process.stdout.write(`${row(line)}\n`);
