import { settle } from './clock';
import { objectLogger, REDACTED } from './logger';
import { captureLogs, configMap } from './testing/fixtures';

describe('logger', () => {
  it('writes JSON lines carrying the object keys of a child logger', async () => {
    const logs = captureLogs('info');
    objectLogger(logs.logger, { ...configMap('ns', 'web'), kind: 'Service' }).info('scaled', { desiredCount: 3 });
    logs.logger.debug('not at info level');
    await settle();
    expect(logs.lines()).toEqual([
      { level: 'info', message: 'scaled', kind: 'Service', namespace: 'ns', name: 'web', desiredCount: 3, timestamp: expect.any(String) },
    ]);
  });

  it('masks secret-looking fields and environment values wherever they appear', async () => {
    const logs = captureLogs('info');
    logs.logger.info('container', {
      container: {
        name: 'app',
        environment: [{ name: 'MODE', value: 'prod' }],
        env: [{ name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } }],
        secrets: [{ name: 'API', valueFrom: 'api-key' }],
      },
      password: 'hunter2',
      authToken: 'abc',
    });
    await settle();
    const [line] = logs.lines();
    expect(line).toMatchObject({
      container: {
        name: 'app',
        environment: [{ name: 'MODE', value: REDACTED }],
        env: [{ name: 'DB', valueFrom: REDACTED }],
        secrets: REDACTED,
      },
      password: REDACTED,
      authToken: REDACTED,
    });
    expect(JSON.stringify(line)).not.toMatch(/prod|hunter2|abc|api-key/);
  });
});
