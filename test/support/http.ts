import * as http from 'node:http';

/** GET `url`: the body of a 200 answer; rejects on any other status, a connection error or `timeoutMs` of silence. */
export function httpGet(url: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: timeoutMs }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${response.statusCode}`))));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`));
      })
      .on('error', reject);
  });
}
