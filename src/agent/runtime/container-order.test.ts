import { startOrder, stopWaves } from './container-order';
import { taskLayout } from './task-layout';
import { taskSpec } from './testing';

const layout = taskLayout(
  taskSpec([
    {
      name: 'app',
      dependsOn: [
        { containerName: 'db', condition: 'HEALTHY' },
        { containerName: 'migrate', condition: 'SUCCESS' },
      ],
    },
    { name: 'migrate', essential: false, dependsOn: [{ containerName: 'db', condition: 'START' }] },
    { name: 'db' },
    { name: 'logs', essential: false },
  ]),
);

describe('startOrder', () => {
  it('puts dependencies before dependents, otherwise keeps the task definition order', () => {
    expect(startOrder(layout)).toEqual(['db', 'migrate', 'app', 'logs']);
  });
});

describe('stopWaves', () => {
  it('stops dependents first, independent containers together', () => {
    expect(stopWaves(layout, ['app', 'migrate', 'db', 'logs'])).toEqual([['app', 'logs'], ['migrate'], ['db']]);
  });

  it('only waits for dependents that are still to be stopped', () => {
    expect(stopWaves(layout, ['db', 'logs'])).toEqual([['db', 'logs']]);
  });

  it('stops containers unknown to the layout in the first wave', () => {
    expect(stopWaves(layout, ['db', 'stray'])).toEqual([['db', 'stray']]);
  });
});
