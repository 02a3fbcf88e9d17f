// What the request-count suite puts in front of a service: a load balancer that forwards each request to a
// RUNNING task's host port, round robin, and counts the requests it takes, as an ALB counts RequestCount
// (a request with no target to go to is answered 503 and counted all the same). It serves the count in the
// Prometheus text format, for the test environment's Prometheus to scrape, and a load generator that sends
// a steady number of requests a second to it. Everything listens and connects on 127.0.0.1 only.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class CountingBalancer {
  private server!: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private next = 0;
  /** Requests taken, all targets together: the counter Prometheus scrapes. */
  total = 0;
  /** Requests each target (host port) answered. */
  readonly answered = new Map<number, number>();
  /** The RUNNING tasks' host ports: set by the test as tasks come and go. */
  targets: number[] = [];

  /** `service`: the value of the counter's `service` label, which the Service's requestCountMetric selects. */
  constructor(private readonly service: string) {}

  async listen(): Promise<number> {
    this.server = http.createServer((request, response) => {
      if (request.url === '/metrics') {
        response.setHeader('Content-Type', 'text/plain; version=0.0.4');
        response.end(
          `# HELP berth_test_requests_total Requests the test load balancer took.\n# TYPE berth_test_requests_total counter\nberth_test_requests_total{service="${this.service}"} ${this.total}\n`,
        );
        return;
      }
      this.total++;
      this.forward(request, response);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  private forward(request: http.IncomingMessage, response: http.ServerResponse): void {
    const targets = this.targets;
    if (targets.length === 0) {
      response.statusCode = 503;
      response.end('no target\n');
      return;
    }
    const port = targets[this.next++ % targets.length];
    const upstream = http.get({ host: '127.0.0.1', port, path: request.url, agent: this.agent, timeout: 5000 }, (answer) => {
      if (answer.statusCode === 200) this.answered.set(port, (this.answered.get(port) ?? 0) + 1);
      response.statusCode = answer.statusCode ?? 502;
      answer.pipe(response);
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', () => {
      if (!response.headersSent) response.statusCode = 502;
      response.end();
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Sends `perSecond` requests a second to 127.0.0.1:`port`, counted from the start: when the event loop falls
 * behind (a busy machine), it catches up with the requests it owes, at most a second's worth at once, so the
 * rate over any 10 s stays what was asked. Bounded: it stops after `maxRequests`.
 */
export class SteadyLoad {
  private timer: NodeJS.Timeout | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  sent = 0;

  constructor(
    private readonly port: number,
    private readonly perSecond: number,
    private readonly maxRequests: number,
  ) {}

  start(): void {
    const startedAt = Date.now();
    const base = this.sent;
    const tick = () => {
      const owed = Math.floor(((Date.now() - startedAt) / 1000) * this.perSecond) - (this.sent - base);
      for (let i = 0; i < Math.min(owed, this.perSecond) && this.sent < this.maxRequests; i++) {
        this.sent++;
        http
          .get({ host: '127.0.0.1', port: this.port, path: '/', agent: this.agent, timeout: 5000 }, (answer) => answer.resume())
          .on('timeout', function (this: http.ClientRequest) {
            this.destroy();
          })
          .on('error', () => undefined);
      }
      this.timer = setTimeout(tick, 20);
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.agent.destroy();
  }
}
