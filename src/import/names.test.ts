import { kubernetesName, secretKey, serviceName } from './names';

describe('Kubernetes names for ECS names', () => {
  test.each([
    ['consulClient', 'consulclient'],
    ['firelens-example_datadog', 'firelens-example-datadog'],
    ['/ecspresso-test/foo', 'ecspresso-test-foo'],
    ['--a..b__c--', 'a-b-c'],
    ['web', 'web'],
  ])('%s → %s', (ecsName, name) => {
    expect(kubernetesName(ecsName)).toBe(name);
  });

  test('nothing to name by: undefined', () => {
    expect(kubernetesName('___')).toBeUndefined();
  });

  test('deterministic, and shortened with a hash past the limit so that two long names stay apart', () => {
    const long = `svc_${'a'.repeat(80)}`;
    const name = serviceName(long)!;
    expect(name).toHaveLength(63);
    expect(name).toBe(serviceName(long));
    expect(name).not.toBe(serviceName(`${long}b`));
    expect(name).toMatch(/^svc-a+-[0-9a-f]{8}$/);
  });

  test('Secret keys keep letters, digits, - _ . and turn the rest into _', () => {
    expect(secretKey('db.password-2_x')).toBe('db.password-2_x');
    expect(secretKey('db password/x')).toBe('db_password_x');
  });
});
