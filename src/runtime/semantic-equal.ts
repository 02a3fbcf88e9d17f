/**
 * Whether two API values mean the same thing, as the API server will store them: object key order
 * does not matter (the server re-serialises in its own order, so a status read back never has the
 * key order it was written with), and a key holding `undefined` is the same as no key (JSON drops
 * it). Array order does matter. This is what decides "no write needed": comparing serialisations
 * instead would write again after every read-back.
 */
export function semanticallyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => semanticallyEqual(item, other[i]));
  }
  const left = definedEntries(a as Record<string, unknown>);
  const right = definedEntries(b as Record<string, unknown>);
  if (left.size !== right.size) return false;
  for (const [key, value] of left) {
    if (!right.has(key) || !semanticallyEqual(value, right.get(key))) return false;
  }
  return true;
}

function definedEntries(object: Record<string, unknown>): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  for (const key of Object.keys(object)) if (object[key] !== undefined) entries.set(key, object[key]);
  return entries;
}
