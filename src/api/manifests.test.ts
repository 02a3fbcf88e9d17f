import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type { KubeObject } from '../store/object-store';
import { resourceTypeFor, validatorFor } from './index';

const root = join(__dirname, '..', '..');

function yamlFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(directory, name));
}

/** What the API server does with a create: default, then validate. */
function refusals(object: KubeObject): string[] {
  const type = resourceTypeFor(object.apiVersion, object.kind);
  if (!type) throw new Error(`${object.apiVersion} ${object.kind} is not a Berth kind`);
  const validator = validatorFor(type)!;
  return validator.validate(validator.applyDefaults(object));
}

describe('examples/', () => {
  const files = yamlFiles(join(root, 'examples'));

  it('holds the manifests a newcomer applies first', () => {
    const kinds = files.flatMap((file) => (loadAll(readFileSync(file, 'utf8')) as KubeObject[]).map((o) => o.kind));
    expect(kinds).toEqual(['Cluster', 'TaskDefinition', 'Service', 'TaskDefinition', 'Service', 'TaskDefinition', 'Service']);
  });

  it.each(files)('%s is valid', (file) => {
    for (const object of loadAll(readFileSync(file, 'utf8')) as KubeObject[]) expect(refusals(object)).toEqual([]);
  });
});

describe('test/fixtures/bad-manifests/', () => {
  const files = yamlFiles(join(root, 'test', 'fixtures', 'bad-manifests'));

  it('covers at least 24 refusals', () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  it.each(files)('%s is refused as its first line expects', (file) => {
    const text = readFileSync(file, 'utf8');
    const expected = /^# expect: (.+)\n/.exec(text)?.[1];
    expect(expected).toBeDefined();
    const errors = refusals(loadAll(text)[0] as KubeObject);
    expect(errors.join('\n')).toContain(expected);
  });
});
