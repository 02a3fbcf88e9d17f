import { describeSource, SecretKeys, secretKeyRefOf, secretSource } from './secrets';

const refOf = (valueFrom: string) => {
  const source = secretSource(valueFrom);
  return source && secretKeyRefOf(source);
};

describe('secret sources as Secret keys', () => {
  test.each([
    [
      'a complete Secrets Manager ARN: the random suffix is not part of the name',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      { name: 'prod-db', key: 'value' },
    ],
    [
      'a Secrets Manager ARN with a JSON key',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:password::',
      { name: 'prod-db', key: 'password' },
    ],
    ['a partial Secrets Manager ARN (no suffix)', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api_token', { name: 'api-token', key: 'value' }],
    ['an SSM parameter ARN', 'arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db/url', { name: 'prod-db-url', key: 'value' }],
    ['a bare SSM parameter path', '/prod/db/url', { name: 'prod-db-url', key: 'value' }],
    ['a bare SSM parameter name', 'ecs-cwagent-sidecar-ec2', { name: 'ecs-cwagent-sidecar-ec2', key: 'value' }],
    [
      'an ARN with a templated account',
      'arn:aws:ssm:ap-northeast-1:{{must_env `AWS_ACCOUNT_ID`}}:parameter/ecspresso-test/bar',
      { name: 'ecspresso-test-bar', key: 'value' },
    ],
    ['a JSON key that is not a Secret key', 'arn:aws:secretsmanager:eu-west-1:1:secret:app-AbCdEf:db password::', { name: 'app', key: 'db_password' }],
  ])('%s', (_, valueFrom, ref) => {
    expect(refOf(valueFrom)).toEqual(ref);
  });

  test('the SSM name and the SSM ARN of one parameter map to the same key', () => {
    expect(refOf('/ecspresso-test/foo')).toEqual(refOf('arn:aws:ssm:ap-northeast-1:1:parameter/ecspresso-test/foo'));
  });

  test('what is none of the forms maps to nothing', () => {
    expect(secretSource('{{ secretsmanager_arn `ecspresso-test/baz` }}')).toBeUndefined();
    expect(secretSource('arn:aws:s3:::bucket/key')).toBeUndefined();
    expect(refOf('___')).toBeUndefined();
  });

  test('the user is told the source, its JSON key and a pinned version', () => {
    expect(describeSource(secretSource('arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password:AWSPREVIOUS:')!)).toBe(
      'the JSON key password of Secrets Manager secret arn:aws:secretsmanager:eu-west-1:1:secret:db-AbCdEf:password:AWSPREVIOUS: (version stage AWSPREVIOUS: a Secret holds one version, store that one)',
    );
    expect(describeSource(secretSource('/prod/db/url')!)).toBe('SSM Parameter Store parameter /prod/db/url');
  });

  test('two sources that would share a Secret key are refused, one source used twice is not', () => {
    const keys = new SecretKeys();
    const ssm = secretSource('/a/b')!;
    keys.claim(secretKeyRefOf(ssm)!, ssm, 'containerDefinitions[0].secrets[0].valueFrom');
    keys.claim(secretKeyRefOf(ssm)!, ssm, 'containerDefinitions[1].secrets[0].valueFrom');
    const secret = secretSource('arn:aws:secretsmanager:eu-west-1:1:secret:a/b-AbCdEf')!;
    expect(() => keys.claim(secretKeyRefOf(secret)!, secret, 'containerDefinitions[1].secrets[1].valueFrom')).toThrow(
      'containerDefinitions[1].secrets[1].valueFrom: arn:aws:secretsmanager:eu-west-1:1:secret:a/b-AbCdEf and the source (at containerDefinitions[0].secrets[0].valueFrom) would both become key value of Secret a-b, which can hold only one of them',
    );
  });
});
