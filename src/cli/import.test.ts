import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';
import { runImport, type ImportFlags } from './import';

const taskDefinition = {
  family: 'web',
  taskRoleArn: 'arn:aws:iam::1:role/web',
  containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128, links: ['db'] }],
};

/** `berth import` on stdin `text`, with what it wrote on stdout and stderr. */
async function importStdin(text: string, flags: Partial<ImportFlags> = {}) {
  let out = '';
  const err: string[] = [];
  const code = await runImport(
    { file: '-', output: 'yaml', ...flags },
    { out: (t) => (out += t), err: (l) => err.push(l), readStdin: () => Promise.resolve(text) },
  );
  return { code, out, err };
}

describe('berth import', () => {
  test('YAML documents on stdout, the report on stderr, exit 0', async () => {
    const { code, out, err } = await importStdin(JSON.stringify(taskDefinition), { namespace: 'team' });
    expect(code).toBe(0);
    expect(loadAll(out)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'web', namespace: 'team', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/web' } },
      },
      {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'TaskDefinition',
        metadata: { name: 'web', namespace: 'team' },
        spec: { containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128 }], taskRole: 'web' },
      },
    ]);
    expect(err).toEqual([
      'taskRoleArn: taskRole web: a ServiceAccount, emitted with the annotation eks.amazonaws.com/role-arn (IAM roles for service accounts on EKS)',
      'containerDefinitions[0].links: not imported: containers of a task reach each other through mapped ports or shared volumes',
    ]);
  });

  test('-o json: a v1 List, as kubectl prints one', async () => {
    const { code, out } = await importStdin(JSON.stringify(taskDefinition), { output: 'json' });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      apiVersion: 'v1',
      kind: 'List',
      items: [expect.objectContaining({ kind: 'ServiceAccount' }), expect.objectContaining({ kind: 'TaskDefinition' })],
    });
  });

  test('an input that cannot become a manifest: nothing on stdout, the error and its fields on stderr, exit 1', async () => {
    const gpu = {
      family: 'gpu',
      containerDefinitions: [{ name: 'cuda', image: 'nvidia/cuda', memory: 128, resourceRequirements: [{ type: 'GPU', value: '1' }] }],
    };
    expect(await importStdin(JSON.stringify(gpu))).toEqual({
      code: 1,
      out: '',
      err: [
        'error: stdin: task definition gpu cannot be imported:',
        'containerDefinitions[0].resourceRequirements: Forbidden: resourceRequirements is not supported: Berth does not schedule GPUs or inference accelerators',
      ],
    });
    expect(await importStdin('{"family": $FAMILY}')).toMatchObject({
      code: 1,
      out: '',
      err: [expect.stringMatching(/^error: stdin:1:12: invalid JSON: expected a value, found "\$"/)],
    });
  });

  test('reads FILE; a file that cannot be read exits 1 with its name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-import-'));
    try {
      const file = path.join(dir, 'td.json');
      writeFileSync(file, JSON.stringify(taskDefinition));
      let out = '';
      const output = { out: (t: string) => (out += t), err: () => undefined, readStdin: () => Promise.reject(new Error('not read')) };
      expect(await runImport({ file, output: 'yaml' }, output)).toBe(0);
      expect(out).toContain('kind: TaskDefinition');
      const err: string[] = [];
      expect(await runImport({ file: path.join(dir, 'missing.json'), output: 'yaml' }, { ...output, err: (l) => err.push(l) })).toBe(1);
      expect(err).toEqual([expect.stringMatching(/^error: .*missing\.json: ENOENT: no such file or directory/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
