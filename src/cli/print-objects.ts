import { dump } from 'js-yaml';
import type { KubeObject } from '../store/object-store';

export type ObjectFormat = 'yaml' | 'json';

/**
 * Objects as `kubectl get -o yaml|json` prints them: one object as itself, several as a v1 List (so the
 * output is one document a pipe can parse); JSON indented by 4, as kubectl does.
 */
export function printObjects(objects: KubeObject[], format: ObjectFormat): string {
  const document = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } };
  return format === 'json' ? `${JSON.stringify(document, null, 4)}\n` : dump(document, { noRefs: true, lineWidth: -1 });
}
