/**
 * IAM roles as Kubernetes identities. A task role is what the application inside the task may access; in Berth
 * the task receives the token of a ServiceAccount (`taskRole`). On EKS, IAM Roles for Service Accounts (IRSA)
 * give that ServiceAccount the very role when it carries the `eks.amazonaws.com/role-arn` annotation, so the
 * import emits the ServiceAccount annotated with the task role's ARN.
 */
import { kubernetesName } from './names';

export const roleArnAnnotation = 'eks.amazonaws.com/role-arn';

export interface ServiceAccountManifest {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: { name: string; namespace?: string; annotations: Record<string, string> };
}

/**
 * `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`; the account is matched loosely so that a templated one still
 * names the role.
 */
const roleArn = /^arn:[^:]+:iam::[^:]*:role\/(?:[^:]*\/)?([^/:]+)$/;

/**
 * The ServiceAccount a role ARN becomes, named after the role.
 *   e.g. `arn:aws:iam::012345678910:role/service/ecs_task_role` → ServiceAccount ecs-task-role.
 * Undefined when `arn` is not a role ARN (a `{{task-role-arn}}` placeholder, say).
 */
export function serviceAccountFor(arn: string): ServiceAccountManifest | undefined {
  const role = roleArn.exec(arn);
  const name = role && kubernetesName(role[1]);
  if (!name) return undefined;
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, annotations: { [roleArnAnnotation]: arn } } };
}
