import { request } from 'node:http';
import { serveHealth } from './http-servers';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('serveHealth', () => {
  it('answers 500 naming the failed check, and treats a throwing check as failed', async () => {
    let synced = false;
    const server = await serveHealth(
      {
        healthz: {
          ping: () => undefined,
          broken: () => {
            throw new Error('check crashed');
          },
        },
        readyz: { informers: () => (synced ? undefined : 'not synced: services.berth.dev/') },
      },
      { host: '127.0.0.1', port: 0 },
    );
    try {
      expect(await get(server.port, '/healthz')).toEqual({ status: 500, body: '[+]ping ok\n[-]broken failed: check crashed\nhealthz check failed\n' });
      expect(await get(server.port, '/readyz')).toEqual({ status: 500, body: '[-]informers failed: not synced: services.berth.dev/\nreadyz check failed\n' });
      synced = true;
      expect((await get(server.port, '/readyz?verbose')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
