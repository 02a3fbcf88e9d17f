import { StoreError, type KubeObject } from './object-store';

/**
 * The field selectors every resource supports on the API server: `metadata.name` and
 * `metadata.namespace`, with `=`, `==` or `!=`, comma-separated. Anything else is refused as the API
 * server refuses it, so the embedded store cannot accept a selector the real one would not.
 */
export type FieldMatcher = (object: KubeObject) => boolean;

const fields: Record<string, (object: KubeObject) => string> = {
  'metadata.name': (object) => object.metadata.name,
  'metadata.namespace': (object) => object.metadata.namespace ?? '',
};

export function parseFieldSelector(selector: string | undefined): FieldMatcher {
  if (!selector || selector.trim() === '') return () => true;
  const requirements = selector.split(',').map((part) => {
    const match = /^\s*([^!=\s]+)\s*(==|=|!=)\s*([^\s]*)\s*$/.exec(part);
    if (!match) throw new StoreError('Invalid', `invalid field selector "${selector}": "${part}" is not field=value`);
    const [, field, operator, value] = match as unknown as [string, string, string, string];
    const read = fields[field];
    if (!read) throw new StoreError('Invalid', `field label not supported: ${field}`);
    return operator === '!=' ? (object: KubeObject) => read(object) !== value : (object: KubeObject) => read(object) === value;
  });
  return (object) => requirements.every((matches) => matches(object));
}
