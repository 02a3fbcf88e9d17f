import { berthResourceTypes, validatorFor } from '../api';

/** The parts of an `admission.k8s.io/v1` AdmissionReview request the webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  operation: string;
  name?: string;
  object?: unknown;
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

/**
 * Answers one review: the checks of the Berth kind the CRD cannot state (a memberOf expression that
 * does not parse), on CREATE and UPDATE. The API server has already run the schema and its CEL rules,
 * so only those are run again here; a refusal is worded as the API server words its own:
 *
 *   Service.berth.dev "web" is invalid: spec.placementConstraints[0].expression: Invalid value: "…": expected …
 */
export function review(request: AdmissionRequest): AdmissionResponse {
  const type = berthResourceTypes.find((t) => t.group === request.resource.group && t.plural === request.resource.resource);
  const validator = type && validatorFor(type);
  if (!validator || (request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.object === undefined) {
    return { uid: request.uid, allowed: true };
  }
  const errors = validator.admissionErrors(request.object);
  if (errors.length === 0) return { uid: request.uid, allowed: true };
  const name = request.name ?? (request.object as { metadata?: { name?: string } }).metadata?.name ?? '';
  const what = `${type.kind}.${type.group} "${name}"`;
  return {
    uid: request.uid,
    allowed: false,
    status: { code: 422, reason: 'Invalid', message: `${what} is invalid: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` },
  };
}
