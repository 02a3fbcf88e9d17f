/**
 * Kubernetes names for ECS names. ECS allows upper case, `_`, `/` and more; object names are DNS-1123.
 * The mapping is deterministic, so importing the same file twice yields the same names.
 */
import { boundedName, maxLabelValueLength, maxObjectNameLength } from '../store/object-names';

/**
 * `name` lowercased, every run of other characters than a-z, 0-9 and `-` turned into one `-`, with no `-`
 * at either end, shortened with a hash past `maxLength` (object-names.ts: two long names never collide).
 *   e.g. `consulClient` → `consulclient`; `firelens-example_datadog` → `firelens-example-datadog`;
 *        `/ecspresso-test/foo` → `ecspresso-test-foo`; `___` → undefined (nothing left to name it by).
 */
export function kubernetesName(name: string, maxLength = maxObjectNameLength): string | undefined {
  const sanitized = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return sanitized === '' ? undefined : boundedName(sanitized, maxLength);
}

/** Service names are also the value of their tasks' `berth.dev/service` label: 63 characters at most. */
export function serviceName(name: string): string | undefined {
  return kubernetesName(name, maxLabelValueLength);
}

/**
 * A key of a Secret's data: letters, digits, `-`, `_` and `.` (Kubernetes' rule), other characters `_`.
 *   e.g. the JSON key `db password` → `db_password`.
 */
export function secretKey(key: string): string {
  return key.replace(/[^-._a-zA-Z0-9]/g, '_');
}
