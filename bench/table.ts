/**
 * `npm run -s bench:table -- results.jsonl`: the Markdown table of BENCHMARKS.md from the JSON lines a
 * run printed (a file, or stdin when none is given). A failed case gets a row saying why.
 */
import { readFileSync } from 'node:fs';
import { parseLines, renderTable } from './support/table';

const file = process.argv[2];
process.stdout.write(renderTable(parseLines(readFileSync(file ?? 0, 'utf8'))));
