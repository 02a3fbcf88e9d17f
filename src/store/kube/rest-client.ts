import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { StoreError, StoreErrorReason } from '../object-store';

interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

export interface StreamHandle {
  abort(): void;
}

/**
 * A thin REST transport over the API server. client-node's KubeConfig supplies the endpoint and
 * credentials (kubeconfig file, in-cluster token, exec plugins); the requests are plain HTTP so
 * the adapter controls subresources, patch content types and the watch stream itself.
 */
export class RestClient {
  private readonly server: URL;
  /** The connection pool, kept while the TLS identity it was built for stays the same. */
  private pool: { identity: string; agent: http.Agent } | undefined;

  constructor(
    private readonly config: KubeConfig,
    private readonly requestTimeoutMs = 30_000,
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    // A request that never answers (a half-dead keep-alive connection) would hold a reconcile worker forever.
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    const response = await this.send(method, path, body, contentType, signal).catch((error: Error) => {
      throw signal.aborted ? new StoreError('Unavailable', `${method} ${path}: no answer within ${this.requestTimeoutMs} ms`) : error;
    });
    const text = await readAll(response).catch((error: Error) => {
      throw signal.aborted ? new StoreError('Unavailable', `${method} ${path}: no answer within ${this.requestTimeoutMs} ms`) : error;
    });
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toStoreError(status, text);
  }

  /** Opens a streaming GET and feeds each newline-delimited JSON document to `onLine`. */
  async stream(path: string, onLine: (document: unknown) => void, onEnd: (error?: Error) => void): Promise<StreamHandle> {
    const controller = new AbortController();
    const response = await this.send('GET', path, undefined, 'application/json', controller.signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toStoreError(status, await readAll(response));
    let buffered = '';
    let ended = false;
    const finish = (error?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(error);
    };
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) onLine(JSON.parse(line));
      }
    });
    response.on('end', () => finish());
    response.on('error', (error) => finish(controller.signal.aborted ? undefined : unavailable(error)));
    response.on('close', () => finish());
    return {
      abort: () => {
        ended = true;
        controller.abort();
      },
    };
  }

  /**
   * Opens a streaming GET of bytes (a Pod's log subresource): resolves with the body once the server
   * accepted the request; a refusal (the container is still waiting to start, the Pod is gone) rejects
   * with the server's own message.
   */
  async openBytes(path: string): Promise<{ body: http.IncomingMessage; abort(): void }> {
    const controller = new AbortController();
    const response = await this.send('GET', path, undefined, 'application/json', controller.signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toStoreError(status, await readAll(response));
    return { body: response, abort: () => controller.abort() };
  }

  private async send(method: string, path: string, body: unknown, contentType: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const options: https.RequestOptions = {
      method,
      protocol: this.server.protocol,
      hostname: this.server.hostname,
      port: this.server.port,
      path: this.server.pathname.replace(/\/$/, '') + path,
      headers: { Accept: 'application/json', 'Content-Type': contentType },
      ...(signal ? { signal } : {}),
    };
    await this.config.applyToHTTPSOptions(options);
    options.agent = this.pooled(options);
    const transport = this.server.protocol === 'https:' ? https : http;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // An explicit length: the API server ignored DeleteOptions sent as a chunked DELETE body.
    if (payload !== undefined) options.headers = { ...options.headers, 'Content-Length': Buffer.byteLength(payload) };
    return new Promise((resolve, reject) => {
      const request = transport.request(options, resolve);
      request.on('error', (error) => reject(signal?.aborted ? error : unavailable(error)));
      if (payload !== undefined) request.write(payload);
      request.end();
    });
  }

  /**
   * client-node's applyToHTTPSOptions builds a new Agent on every call, without keep-alive: used as
   * is, every request would open a new connection, with a TLS handshake and a new SecureContext for
   * the client certificate. So the agent is kept, and requests share its connections, as long as what
   * it was built from (CA, client certificate and key, server name, proxy) stays the same; credentials
   * that change (an exec plugin's rotated certificate) get a new pool. A plain agent is rebuilt with
   * keep-alive; a proxy agent is kept as it was built.
   */
  private pooled(options: https.RequestOptions): https.RequestOptions['agent'] {
    const built = options.agent;
    if (!(built instanceof http.Agent)) return built;
    const hash = createHash('sha256').update(built.constructor.name);
    for (const part of [options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername]) {
      for (const item of Array.isArray(part) ? (part as unknown[]) : [part]) {
        hash.update(`\0${typeof item}:`).update(typeof item === 'string' || Buffer.isBuffer(item) ? item : JSON.stringify(item ?? null));
      }
    }
    const identity = hash.digest('hex');
    if (this.pool?.identity !== identity) {
      const plain = built.constructor === https.Agent || built.constructor === http.Agent;
      const agentOptions = (built as http.Agent & { options: https.AgentOptions }).options;
      const agent = plain ? new (built.constructor as typeof https.Agent)({ ...agentOptions, keepAlive: true }) : built;
      this.pool = { identity, agent };
    }
    return this.pool.agent;
  }
}

function readAll(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => resolve(text));
    response.on('error', reject);
  });
}

function unavailable(error: Error): StoreError {
  return new StoreError('Unavailable', `API server unreachable: ${error.message}`);
}

const reasonsByStatusReason: Record<string, StoreErrorReason> = {
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Expired: 'Gone',
  Invalid: 'Invalid',
  BadRequest: 'Invalid',
  Forbidden: 'Forbidden',
};

const reasonsByCode: Record<number, StoreErrorReason> = { 400: 'Invalid', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Gone', 422: 'Invalid' };

/** Maps a metav1.Status (or any failed response) onto the port's error. */
export function toStoreError(code: number, body: string | Status): StoreError {
  let status: Status;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as Status;
    } catch {
      status = { message: body };
    }
  } else status = body;
  const reason = reasonsByStatusReason[status.reason ?? ''] ?? reasonsByCode[status.code ?? code] ?? 'Unavailable';
  const causes = (status.details?.causes ?? []).map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? '')));
  return new StoreError(reason, status.message ?? `HTTP ${code}`, causes);
}
