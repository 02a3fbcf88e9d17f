import { X509Certificate } from 'node:crypto';
import { validatorFor } from '../api';
import { createLogger } from '../runtime/logger';
import { secrets, validatingWebhookConfigurations } from '../store/builtin-types';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { CertificateManager } from './certificates';
import { review } from './review';

const service = (expression: string) => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'ns' },
  spec: { cluster: 'demo', taskDefinition: 'web', placementConstraints: [{ type: 'memberOf', expression }] },
});
const request = (object: unknown, operation = 'CREATE', resource = 'services') => ({
  uid: 'u-1',
  resource: { group: 'berth.dev', version: 'v1alpha1', resource },
  operation,
  name: 'web',
  object,
});

describe('review', () => {
  test('refuses what only the webhook can check, worded as the API server words a refusal', () => {
    expect(review(request(service('attribute:a =~')))).toEqual({
      uid: 'u-1',
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        message: `Service.berth.dev "web" is invalid: spec.placementConstraints[0].expression: Invalid value: "attribute:a =~": expected a value after '=~', found the end of the expression at column 15`,
      },
    });
  });

  test('allows a valid object, a DELETE, and kinds that are not Berth’s; leaves CEL rules to the API server', () => {
    expect(review(request(service('attribute:a == b'))).allowed).toBe(true);
    expect(review(request(service('attribute:a =~'), 'DELETE')).allowed).toBe(true);
    expect(review(request({ metadata: { name: 'x' } }, 'CREATE', 'configmaps')).allowed).toBe(true);
    // desiredCount -1 breaks a schema bound: the API server's business, not the webhook's.
    expect(review(request({ ...service('attribute:a == b'), spec: { ...service('a').spec, desiredCount: -1, placementConstraints: [] } })).allowed).toBe(true);
    const validator = validatorFor({
      group: 'berth.dev',
      version: 'v1alpha1',
      kind: 'Service',
      plural: 'services',
      namespaced: true,
      statusSubresource: true,
    })!;
    expect(
      validator.validate(
        validator.applyDefaults({ ...service('attribute:a == b'), spec: { ...service('a').spec, desiredCount: -1, placementConstraints: [] } }),
      ),
    ).not.toEqual([]);
  });
});

describe('review of a task’s admission', () => {
  const scheduler = 'system:serviceaccount:berth-system:berth-operator';
  const task = (admitted?: string) => ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'web', namespace: 'ns', ...(admitted !== undefined && { annotations: { 'berth.dev/admitted': admitted } }) },
    spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: 'demo-general-0' },
  });
  const asUser = (username: string, object: unknown, operation = 'CREATE', oldObject?: unknown) => ({
    ...request(object, operation, 'tasks'),
    ...(oldObject !== undefined && { oldObject }),
    userInfo: { username },
  });

  test('only the scheduler sets, changes or removes it; anyone may bind a task at creation, as ECS StartTask', () => {
    expect(review(asUser('jane', task('true')), { scheduler })).toEqual({
      uid: 'u-1',
      allowed: false,
      status: {
        code: 403,
        reason: 'Forbidden',
        message: `Task.berth.dev "web" is forbidden: metadata.annotations[berth.dev/admitted]: only Berth's scheduler (${scheduler}) admits a task, once it fits its container instance`,
      },
    });
    expect(review(asUser('jane', task('true'), 'UPDATE', task()), { scheduler }).allowed).toBe(false);
    expect(review(asUser('jane', task(), 'UPDATE', task('true')), { scheduler }).allowed).toBe(false);
    expect(review(asUser('jane', task()), { scheduler }).allowed).toBe(true);
    // Stopping an admitted task (stop-task patches it) leaves the annotation as it was.
    expect(review(asUser('jane', task('true'), 'UPDATE', task('true')), { scheduler }).allowed).toBe(true);
    expect(review(asUser(scheduler, task('true'), 'UPDATE', task()), { scheduler }).allowed).toBe(true);
    // No scheduler known (the embedded store's operator has no users): nothing to compare with.
    expect(review(asUser('jane', task('true'))).allowed).toBe(true);
  });
});

describe('CertificateManager', () => {
  const identity = { namespace: 'berth-system', secretName: 'berth-webhook-tls', serviceName: 'berth-webhook', configurationName: 'berth-webhook' };
  const logger = createLogger({ level: 'error' });
  const configuration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'berth-webhook' },
    webhooks: [{ name: 'validate.berth.dev', clientConfig: { service: { name: 'berth-webhook', namespace: 'berth-system' } } }],
  } as KubeObject;

  test('issues once, reuses while fresh, renews 30 days before the end keeping the old CA trusted, and injects the bundle', async () => {
    const store = new MemoryStore();
    await store.create(validatingWebhookConfigurations, configuration);
    let now = new Date('2026-01-01T00:00:00Z');
    const manager = () => new CertificateManager({ store, identity, logger, now: () => now });
    const first = await manager().ensure();
    const leaf = new X509Certificate(first.certificate);
    expect(leaf.checkHost('berth-webhook.berth-system.svc')).toBeDefined();
    expect(leaf.checkHost('berth-webhook.berth-system.svc.cluster.local')).toBeDefined();
    const bundle = async () => {
      const stored = await store.get<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>(
        validatingWebhookConfigurations,
        undefined,
        'berth-webhook',
      );
      return Buffer.from(stored!.webhooks[0].clientConfig.caBundle ?? '', 'base64').toString();
    };
    expect(await bundle()).toBe(first.caBundle);

    // Another replica, 300 days later: the same certificate.
    now = new Date('2026-10-28T00:00:00Z');
    expect((await manager().ensure()).certificate).toBe(first.certificate);

    // 340 days in: fewer than 30 left, a new one signed by a new CA; both CAs trusted.
    now = new Date('2026-12-07T00:00:00Z');
    const renewed = await manager().ensure();
    expect(renewed.certificate).not.toBe(first.certificate);
    expect(renewed.caBundle.startsWith(renewed.caBundle.slice(0, 100))).toBe(true);
    expect(renewed.caBundle).toContain(first.caBundle.trim());
    expect(new X509Certificate(renewed.certificate).verify(new X509Certificate(renewed.caBundle).publicKey)).toBe(true);
    expect(await bundle()).toBe(renewed.caBundle);
    const secret = await store.get<KubeObject & { data: Record<string, string> }>(secrets, 'berth-system', 'berth-webhook-tls');
    expect(Buffer.from(secret!.data['tls.crt'], 'base64').toString()).toBe(renewed.certificate);
  });
});
