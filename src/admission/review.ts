import { admittedAnnotation, berthResourceTypes, tasks, validatorFor } from '../api';

/** The parts of an `admission.k8s.io/v1` AdmissionReview request the webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  operation: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  userInfo?: { username?: string };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export interface ReviewOptions {
  /** The user Berth's scheduler acts as (the operator's ServiceAccount): the only one that may admit a task. */
  scheduler?: string;
}

/**
 * Answers one review: the checks of the Berth kind the CRD cannot state (a memberOf expression that
 * does not parse), on CREATE and UPDATE. The API server has already run the schema and its CEL rules,
 * so only those are run again here; a refusal is worded as the API server words its own:
 *
 *   Service.berth.dev "web" is invalid: spec.placementConstraints[0].expression: Invalid value: "…": expected …
 */
export function review(request: AdmissionRequest, options: ReviewOptions = {}): AdmissionResponse {
  const type = berthResourceTypes.find((t) => t.group === request.resource.group && t.plural === request.resource.resource);
  const validator = type && validatorFor(type);
  if (!validator || (request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.object === undefined) {
    return { uid: request.uid, allowed: true };
  }
  const name = request.name ?? (request.object as { metadata?: { name?: string } }).metadata?.name ?? '';
  const what = `${type.kind}.${type.group} "${name}"`;
  const forbidden = type === tasks ? admissionForbidden(request, options.scheduler) : undefined;
  if (forbidden) return { uid: request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: `${what} is forbidden: ${forbidden}` } };
  const errors = validator.admissionErrors(request.object);
  if (errors.length === 0) return { uid: request.uid, allowed: true };
  return {
    uid: request.uid,
    allowed: false,
    status: { code: 422, reason: 'Invalid', message: `${what} is invalid: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` },
  };
}

const annotationOf = (object: unknown) =>
  (object as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations?.[admittedAnnotation];

/**
 * A task's admission is the scheduler's word that it fits its instance: it then reserves resources and its
 * agent runs it. Anyone else setting it (RBAC lets people create and patch tasks, to run and stop them)
 * would run a task past the fit check and overcommit the instance, so only the scheduler may set, change
 * or remove it. Binding a task to an instance at creation stays open to users, as ECS StartTask is: the
 * scheduler still checks that it fits before admitting it.
 */
function admissionForbidden(request: AdmissionRequest, scheduler: string | undefined): string | undefined {
  if (scheduler === undefined || request.userInfo?.username === scheduler) return undefined;
  const before = request.operation === 'UPDATE' ? annotationOf(request.oldObject) : undefined;
  if (annotationOf(request.object) === before) return undefined;
  return `metadata.annotations[${admittedAnnotation}]: only Berth's scheduler (${scheduler}) admits a task, once it fits its container instance`;
}
