/** Writes crds/ from the API schemas in src/api. Run: npx ts-node --transpile-only scripts/gen-crds.ts */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from '../src/api/crd-files';

const directory = join(__dirname, '..', 'crds');
mkdirSync(directory, { recursive: true });
const files = renderCrdFiles();
// A kind removed from the API must not leave its CRD behind.
for (const stale of readdirSync(directory).filter((name) => !files.has(name))) rmSync(join(directory, stale));
for (const [name, content] of files) writeFileSync(join(directory, name), content);
console.log(`wrote ${files.size} files to ${directory}`);
