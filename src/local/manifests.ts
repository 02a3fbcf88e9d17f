import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';
import type { KubeObject } from '../store/object-store';

export interface Manifest {
  object: KubeObject;
  /** `file#index`, for error messages a user can act on. */
  source: string;
}

export interface ManifestError {
  source: string;
  message: string;
}

const manifestFile = /\.(ya?ml|json)$/;

/** Reads every manifest in `dir` in file-name order, as `kubectl apply -f dir/` does. */
export async function readManifests(dir: string): Promise<{ manifests: Manifest[]; errors: ManifestError[] }> {
  const files = (await fs.readdir(dir)).filter((file) => manifestFile.test(file)).sort();
  const manifests: Manifest[] = [];
  const errors: ManifestError[] = [];
  for (const file of files) {
    const text = await fs.readFile(path.join(dir, file), 'utf8');
    let documents: unknown[];
    try {
      documents = loadAll(text);
    } catch (error) {
      errors.push({ source: file, message: (error as Error).message.split('\n')[0] ?? 'unparsable YAML' });
      continue;
    }
    documents.forEach((document, index) => {
      const source = `${file}#${index}`;
      if (document === null || document === undefined) return;
      const problem = shapeProblem(document);
      if (problem) errors.push({ source, message: problem });
      else manifests.push({ object: document as KubeObject, source });
    });
  }
  return { manifests, errors };
}

function shapeProblem(document: unknown): string | undefined {
  if (typeof document !== 'object' || Array.isArray(document)) return 'not an object';
  const object = document as Partial<KubeObject>;
  if (!object.apiVersion) return 'apiVersion: Required value';
  if (!object.kind) return 'kind: Required value';
  if (!object.metadata?.name) return 'metadata.name: Required value';
  return undefined;
}
