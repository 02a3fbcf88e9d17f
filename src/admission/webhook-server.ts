import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../runtime/logger';
import type { ObjectStore } from '../store/object-store';
import type { ListenOptions, RunningServer } from '../runtime/http-servers';
import { CertificateManager, type ServingCertificate, type WebhookIdentity } from './certificates';
import { review, type AdmissionReview, type ReviewOptions } from './review';

/** The API server sends one object per review; 3 MiB is its own limit on a request body. */
const maxBodyBytes = 3 * 1024 * 1024;
/** The API server gives up after the configuration's timeoutSeconds (10 by default): no review takes longer here. */
const requestTimeoutMs = 10_000;
/** How often a replica looks at the Secret again, to serve what another replica renewed. */
const reloadIntervalMs = 60_000;

export const validatePath = '/validate';

export interface WebhookServer extends RunningServer {
  /** The certificate being served (its caBundle is what the API server must trust). */
  readonly serving: ServingCertificate;
}

/**
 * The validating admission webhook: HTTPS on `options` (default :9443), `POST /validate` with an
 * AdmissionReview. Every replica serves it, leader or not. The certificate comes from the
 * CertificateManager, and is reloaded in place (no restart, no dropped connection) when it changes.
 */
export async function serveWebhook(
  deps: { store: ObjectStore; identity: WebhookIdentity; logger: Logger; now?: () => Date } & ReviewOptions,
  options: ListenOptions = {},
): Promise<WebhookServer> {
  const certificates = new CertificateManager({ store: deps.store, identity: deps.identity, logger: deps.logger, ...(deps.now ? { now: deps.now } : {}) });
  let serving = await certificates.ensure();
  const server: Server = createServer({ cert: serving.certificate, key: serving.privateKey, minVersion: 'TLSv1.2' }, (request, response) => {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== validatePath) {
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.setTimeout(requestTimeoutMs, () => request.destroy());
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.writableEnded) return;
      let body: AdmissionReview;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      } catch {
        response.writeHead(400, { 'Content-Type': 'text/plain' }).end('not an AdmissionReview\n');
        return;
      }
      if (!body.request) {
        response.writeHead(400, { 'Content-Type': 'text/plain' }).end('an AdmissionReview without a request\n');
        return;
      }
      const answer = review(body.request, { scheduler: deps.scheduler });
      // Never the object itself: it may carry secrets' names and values.
      if (!answer.allowed)
        deps.logger.info('admission refused', { resource: body.request.resource.resource, name: body.request.name, operation: body.request.operation });
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer } satisfies AdmissionReview));
    });
  });
  const reload = setInterval(() => {
    certificates.ensure().then(
      (current) => {
        if (current.certificate === serving.certificate) return;
        serving = current;
        server.setSecureContext({ cert: current.certificate, key: current.privateKey, minVersion: 'TLSv1.2' });
        deps.logger.info('serving the renewed webhook certificate', { notAfter: current.notAfter.toISOString() });
      },
      (error: unknown) => deps.logger.warn('could not check the webhook certificate', { error: error instanceof Error ? error.message : String(error) }),
    );
  }, reloadIntervalMs);
  reload.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9443, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    get serving() {
      return serving;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(reload);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
