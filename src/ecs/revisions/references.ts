import type { KubeObject } from '../../store/object-store';
import type { TaskDefinitionSpec } from '../../api';

/**
 * What a task definition points at outside itself. ECS takes ARNs and fails at launch when one
 * is wrong; Berth names Kubernetes objects and says so at registration, in a condition, because
 * the schema cannot see other objects.
 */
export interface Reference {
  kind: 'Secret' | 'ConfigMap' | 'ServiceAccount';
  name: string;
  /** A key that must exist in the Secret's or ConfigMap's data. */
  key?: string;
  /** Where the reference is, for the message: `containerDefinitions[web].secrets[DB_PASSWORD]`. */
  field: string;
  /** For registry credentials the Secret must be of this type. */
  secretType?: string;
}

export function referencesOf(spec: TaskDefinitionSpec): Reference[] {
  const references: Reference[] = [];
  if (spec.taskRole) references.push({ kind: 'ServiceAccount', name: spec.taskRole, field: 'taskRole' });
  for (const container of spec.containerDefinitions) {
    const at = `containerDefinitions[${container.name}]`;
    for (const secret of container.secrets ?? []) {
      const { secretKeyRef, configMapKeyRef } = secret.valueFrom;
      if (secretKeyRef) references.push({ kind: 'Secret', name: secretKeyRef.name, key: secretKeyRef.key, field: `${at}.secrets[${secret.name}]` });
      if (configMapKeyRef) references.push({ kind: 'ConfigMap', name: configMapKeyRef.name, key: configMapKeyRef.key, field: `${at}.secrets[${secret.name}]` });
    }
    (container.environmentFiles ?? []).forEach((file, index) => {
      const field = `${at}.environmentFiles[${index}]`;
      if (file.secretRef) references.push({ kind: 'Secret', name: file.secretRef.name, field });
      if (file.configMapRef) references.push({ kind: 'ConfigMap', name: file.configMapRef.name, field });
    });
    const credentials = container.repositoryCredentials?.credentialsParameter;
    if (credentials) {
      references.push({ kind: 'Secret', name: credentials, field: `${at}.repositoryCredentials`, secretType: 'kubernetes.io/dockerconfigjson' });
    }
  }
  return references;
}

export interface ReferenceTargets {
  secret(name: string): (KubeObject & { type?: string; data?: Record<string, string> }) | undefined;
  configMap(name: string): (KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }) | undefined;
  serviceAccount(name: string): KubeObject | undefined;
}

/** One sentence per broken reference; empty when everything resolves. Never includes a secret's value. */
export function unresolvedReferences(references: Reference[], namespace: string, targets: ReferenceTargets): string[] {
  const problems: string[] = [];
  for (const ref of references) {
    const where = `${ref.field}: ${ref.kind} ${namespace}/${ref.name}`;
    if (ref.kind === 'ServiceAccount') {
      if (!targets.serviceAccount(ref.name)) problems.push(`${where} not found`);
      continue;
    }
    const target = ref.kind === 'Secret' ? targets.secret(ref.name) : targets.configMap(ref.name);
    if (!target) {
      problems.push(`${where} not found`);
      continue;
    }
    if (ref.secretType && (target as { type?: string }).type !== ref.secretType) {
      problems.push(`${where} is not of type ${ref.secretType}`);
      continue;
    }
    const data = { ...(target as { data?: object }).data, ...(target as { binaryData?: object }).binaryData };
    if (ref.key !== undefined && !(ref.key in data)) problems.push(`${where} has no key "${ref.key}"`);
  }
  return problems;
}
