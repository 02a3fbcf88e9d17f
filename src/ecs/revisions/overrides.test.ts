import type { TaskDefinitionSpec } from '../../api';
import { overridesProblem, withOverrides } from './overrides';

const spec: TaskDefinitionSpec = {
  containerDefinitions: [
    { name: 'app', image: 'app:1', memory: 128, environment: [{ name: 'MODE', value: 'normal' }] },
    { name: 'sidecar', image: 'proxy:1', memory: 64 },
  ],
} as TaskDefinitionSpec;

test('overrides naming containers the revision has apply, and leave the revision untouched', () => {
  const overrides = { memory: 512, containerOverrides: [{ name: 'app', environment: [{ name: 'MODE', value: 'debug' }], memory: 256 }] };
  expect(overridesProblem(spec, overrides, 'app:3')).toBeUndefined();
  const result = withOverrides(spec, overrides);
  expect(result.memory).toBe(512);
  expect(result.containerDefinitions[0]).toMatchObject({ memory: 256, environment: [{ name: 'MODE', value: 'debug' }] });
  expect(spec.containerDefinitions[0].memory).toBe(128);
});

test('an override of a container the revision lacks is named in the refusal', () => {
  expect(overridesProblem(spec, { containerOverrides: [{ name: 'app' }, { name: 'side-car' }] }, 'app:3')).toBe(
    'overrides.containerOverrides[side-car]: task definition app:3 has no container named side-car',
  );
  expect(overridesProblem(spec, undefined, 'app:3')).toBeUndefined();
});
