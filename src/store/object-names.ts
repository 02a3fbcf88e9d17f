/**
 * Object names: what the API server accepts, and how Berth derives names for the objects it creates
 * (tasks, container instances, events) from names users chose, which can be as long as the limit.
 */
import { createHash } from 'node:crypto';

/** A DNS subdomain (RFC 1123), as object names must be. */
export const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const maxObjectNameLength = 253;
export const maxLabelValueLength = 63;
const hashLength = 8;

/**
 * `name` itself when it fits in `maxLength`, else its readable start and a hash of the whole, so two
 * long names never shorten to the same one. The start keeps no trailing `.` or `-`, which would make
 * the result an invalid subdomain (`a.-hash`).
 */
export function boundedName(name: string, maxLength = maxObjectNameLength): string {
  if (name.length <= maxLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, hashLength);
  return `${name.slice(0, maxLength - hashLength - 1).replace(/[.-]+$/, '')}-${hash}`;
}
