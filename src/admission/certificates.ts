import { X509Certificate } from 'node:crypto';
import type { Logger } from '../runtime/logger';
import { secrets, validatingWebhookConfigurations } from '../store/builtin-types';
import { isStoreError, type KubeObject, type ObjectStore } from '../store/object-store';
import { issueCertificate } from './x509';

/** Where the webhook's certificate lives and who must trust it. */
export interface WebhookIdentity {
  namespace: string;
  /** The Secret (type kubernetes.io/tls) holding the CA and the serving certificate. */
  secretName: string;
  /** The Service in front of the webhook: the certificate is for `<service>.<namespace>.svc`. */
  serviceName: string;
  /** The ValidatingWebhookConfiguration whose caBundle names the CA. */
  configurationName: string;
  /** Other names or IPs to serve as (a test's 127.0.0.1). */
  extraNames?: readonly string[];
}

export interface ServingCertificate {
  certificate: string;
  privateKey: string;
  /** The CAs the API server must trust: the current one first, the previous one while a rotation settles. */
  caBundle: string;
  notAfter: Date;
}

interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

interface WebhookConfiguration extends KubeObject {
  webhooks?: { name: string; clientConfig: { caBundle?: string } }[];
}

const day = 24 * 60 * 60 * 1000;

/**
 * Keeps the webhook's TLS certificate without a hand step, as cert-manager's CA injector or
 * controller-runtime's cert rotator do: a self-signed CA and a serving certificate it signs, kept in a
 * Secret every replica reads, reissued when less than `renewBefore` of their life is left, and the CA
 * written into the webhook configuration's caBundle.
 *
 *   e.g. valid 365 days, renewed 30 days before the end: issued 1 Jan, reissued on 2 Dec.
 *
 * A reissue keeps the old CA in the caBundle beside the new one, so that the API server trusts the
 * replicas still serving the old certificate until they reload the Secret. Replicas race to write the
 * Secret; the loser of a create or update conflict takes what the winner wrote.
 */
export class CertificateManager {
  private readonly now: () => Date;
  private readonly validityMs: number;
  private readonly renewBeforeMs: number;

  constructor(
    private readonly deps: {
      store: ObjectStore;
      identity: WebhookIdentity;
      logger: Logger;
      now?: () => Date;
      validityDays?: number;
      renewBeforeDays?: number;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
    this.validityMs = (deps.validityDays ?? 365) * day;
    this.renewBeforeMs = (deps.renewBeforeDays ?? 30) * day;
  }

  /** The certificate to serve: the stored one while it is fresh, else a new one, written where it belongs. */
  async ensure(): Promise<ServingCertificate> {
    const { store, identity } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const secret = await store.get<Secret>(secrets, identity.namespace, identity.secretName);
      const stored = secret && certificateOf(secret);
      if (stored && stored.notAfter.getTime() - this.now().getTime() > this.renewBeforeMs && this.covers(stored)) {
        await this.inject(stored.caBundle);
        return stored;
      }
      const fresh = this.issue(stored);
      try {
        // The API server trusts the new CA before any replica serves a certificate it signed.
        await this.inject(fresh.caBundle);
        if (secret) await store.update(secrets, { ...secret, type: 'kubernetes.io/tls', data: dataOf(fresh) });
        else
          await store.create(secrets, {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: identity.secretName, namespace: identity.namespace },
            type: 'kubernetes.io/tls',
            data: dataOf(fresh),
          });
        this.deps.logger.info('issued the webhook serving certificate', {
          secret: `${identity.namespace}/${identity.secretName}`,
          notAfter: fresh.notAfter.toISOString(),
        });
        return fresh;
      } catch (error) {
        // Another replica wrote it first: take theirs.
        if (attempt < 3 && (isStoreError(error, 'AlreadyExists') || isStoreError(error, 'Conflict'))) continue;
        throw error;
      }
    }
  }

  /** Whether the certificate still serves every name it must (a changed Service name means a new one). */
  private covers(stored: ServingCertificate): boolean {
    const leaf = new X509Certificate(stored.certificate);
    return this.names().every((name) => (/^[\d.]+$/.test(name) ? leaf.checkIP(name) : leaf.checkHost(name)) !== undefined);
  }

  private names(): string[] {
    const { serviceName, namespace, extraNames = [] } = this.deps.identity;
    return [`${serviceName}.${namespace}.svc`, `${serviceName}.${namespace}.svc.cluster.local`, ...extraNames];
  }

  private issue(previous: ServingCertificate | undefined): ServingCertificate {
    const notBefore = new Date(this.now().getTime() - 60_000);
    const notAfter = new Date(notBefore.getTime() + this.validityMs);
    const caName = `${this.deps.identity.serviceName}-ca`;
    const ca = issueCertificate({ commonName: caName, notBefore, notAfter, isCA: true });
    const serving = issueCertificate({
      commonName: this.names()[0],
      names: this.names(),
      notBefore,
      notAfter,
      isCA: false,
      issuer: { ...ca, commonName: caName },
    });
    const previousCa = previous ? firstCertificate(previous.caBundle) : '';
    return { certificate: serving.certificate, privateKey: serving.privateKey, caBundle: ca.certificate + previousCa, notAfter };
  }

  /** Writes the caBundle into every webhook of the configuration; absent configuration: nothing to do yet (deploy/ creates it). */
  private async inject(caBundle: string): Promise<void> {
    const { store, identity } = this.deps;
    const configuration = await store.get<WebhookConfiguration>(validatingWebhookConfigurations, undefined, identity.configurationName);
    if (!configuration?.webhooks) return;
    const encoded = Buffer.from(caBundle).toString('base64');
    if (configuration.webhooks.every((webhook) => webhook.clientConfig.caBundle === encoded)) return;
    const webhooks = configuration.webhooks.map((webhook) => ({ ...webhook, clientConfig: { ...webhook.clientConfig, caBundle: encoded } }));
    await store.update(validatingWebhookConfigurations, { ...configuration, webhooks });
  }
}

function dataOf(certificate: ServingCertificate): Record<string, string> {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return { 'tls.crt': base64(certificate.certificate), 'tls.key': base64(certificate.privateKey), 'ca.crt': base64(certificate.caBundle) };
}

function certificateOf(secret: Secret): ServingCertificate | undefined {
  const text = (key: string) => (secret.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString() : undefined);
  const certificate = text('tls.crt');
  const privateKey = text('tls.key');
  const caBundle = text('ca.crt');
  if (!certificate || !privateKey || !caBundle) return undefined;
  try {
    return { certificate, privateKey, caBundle, notAfter: new Date(new X509Certificate(certificate).validTo) };
  } catch {
    // Not a certificate (edited by hand?): issue a new one.
    return undefined;
  }
}

function firstCertificate(bundle: string): string {
  const end = bundle.indexOf('-----END CERTIFICATE-----');
  return end < 0 ? '' : bundle.slice(0, end + '-----END CERTIFICATE-----'.length) + '\n';
}
