import { detectShape, parseJson } from './read-input';

const parseError = (text: string) => {
  try {
    parseJson(text, 'td.json');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('parsed');
};

describe('parseJson', () => {
  test('a trailing comma: its line and column, and what JSON allows', () => {
    expect(parseError('{\n  "family": "web",\n  "cpu": "256",\n}')).toBe(
      'td.json:4:1: invalid JSON: expected a property name in double quotes, found "}" (a trailing comma before it: JSON allows none)',
    );
    expect(parseError('{"a": [1, 2, ]}')).toBe('td.json:1:14: invalid JSON: expected a value, found "]" (a trailing comma before it: JSON allows none)');
  });

  test('a template ($VAR, {{ }}) where a value belongs says so', () => {
    const hint = '(this looks like a template, not JSON: render it first, e.g. with envsubst or the tool that owns it, and import the result)';
    expect(parseError('{\n  "family": $NAME\n}')).toBe(`td.json:2:13: invalid JSON: expected a value, found "$" ${hint}`);
    expect(parseError('{"family": {{ .Family }}}')).toBe(`td.json:1:13: invalid JSON: expected a property name in double quotes, found "{" ${hint}`);
  });

  test('other syntax errors, and the end of the input', () => {
    expect(parseError('{"a" 1}')).toBe('td.json:1:6: invalid JSON: expected \':\' after a property name, found "1"');
    expect(parseError('[1 2]')).toBe("td.json:1:4: invalid JSON: expected ',' or ']' after an element, found \"2\"");
    expect(parseError('{"a": "b')).toBe("td.json:1:9: invalid JSON: expected a closing '\"', found the end of the input");
    expect(parseError('')).toBe('td.json:1:1: invalid JSON: expected a value, found the end of the input');
    expect(parseError('{} {}')).toBe('td.json:1:4: invalid JSON: expected the end of the input, found "{"');
  });
});

describe('detectShape', () => {
  test('the three accepted shapes', () => {
    expect(detectShape({ taskDefinition: { family: 'web' }, tags: [] }, 'f').shape).toBe('describe-task-definition');
    expect(detectShape({ family: 'web', containerDefinitions: [] }, 'f').shape).toBe('task-definition');
    expect(detectShape({ services: [], failures: [] }, 'f').shape).toBe('describe-services');
  });

  test('anything else names what was found and the shapes accepted', () => {
    expect(() => detectShape({ taskDefinitionArn: 'arn', family: 'web' }, 'f.json')).toThrow(
      /^f\.json: not an ECS task definition or service: found an object with the fields "taskDefinitionArn", "family"; expected the output of `aws ecs describe-task-definition`/,
    );
    expect(() => detectShape([], 'f.json')).toThrow(/found an array;/);
  });
});
