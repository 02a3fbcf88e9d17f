/**
 * The operator's two HTTP endpoints, on separate ports as controller-runtime has them: `/metrics`
 * (default :8080) for Prometheus, `/healthz` and `/readyz` (default :8081) for the kubelet's probes.
 */

import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ListenOptions {
  /** Default 0.0.0.0 (all interfaces, as a pod needs); tests use 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A named probe check: undefined when fine, otherwise why not. */
export type HealthCheck = () => string | undefined;

export interface HealthChecks {
  /** Liveness: failing makes the kubelet restart the container. */
  healthz: Record<string, HealthCheck>;
  /** Readiness: failing takes the pod out of service until it passes. */
  readyz: Record<string, HealthCheck>;
}

export function serveMetrics(registry: Registry, options: ListenOptions = {}): Promise<RunningServer> {
  return listen(
    createServer((request, response) => {
      if (request.method !== 'GET' || path(request) !== '/metrics') return notFound(response);
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'Content-Type': registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'Content-Type': 'text/plain' });
          response.end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    }),
    { host: options.host, port: options.port ?? 8080 },
  );
}

export function serveHealth(checks: HealthChecks, options: ListenOptions = {}): Promise<RunningServer> {
  return listen(
    createServer((request, response) => {
      const endpoint = path(request).slice(1);
      if (request.method !== 'GET' || (endpoint !== 'healthz' && endpoint !== 'readyz')) return notFound(response);
      const results = Object.entries(checks[endpoint]).map(([name, check]) => ({ name, failure: safely(check) }));
      const failed = results.some((result) => result.failure !== undefined);
      const lines = results.map(({ name, failure }) => (failure === undefined ? `[+]${name} ok` : `[-]${name} failed: ${failure}`));
      lines.push(`${endpoint} check ${failed ? 'failed' : 'passed'}`);
      response.writeHead(failed ? 500 : 200, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`${lines.join('\n')}\n`);
    }),
    { host: options.host, port: options.port ?? 8081 },
  );
}

function safely(check: HealthCheck): string | undefined {
  try {
    return check();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function path(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://localhost').pathname;
}

function notFound(response: ServerResponse): void {
  response.writeHead(404, { 'Content-Type': 'text/plain' });
  response.end('not found\n');
}

function listen(server: Server, options: { host?: string; port: number }): Promise<RunningServer> {
  const host = options.host ?? '0.0.0.0';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve({
        host,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Prometheus and probes keep connections alive; without this close() waits for them to time out.
            server.closeAllConnections();
          }),
      });
    });
  });
}
