import { latestActiveRevision, resolveForNewUse, resolveForService, revisionState } from './revision-state';
import { storedRevision, storedTaskDefinition } from './testing/revisions';

const web = storedTaskDefinition('web');
const ns = 'team-a';
// web:1 ACTIVE, web:2 INACTIVE, web:3 ACTIVE, web:4 INACTIVE (the newest, deregistered).
const revisions = [storedRevision(web, 1), storedRevision(web, 2, { inactive: true }), storedRevision(web, 3), storedRevision(web, 4, { inactive: true })];
const allInactive = [storedRevision(web, 1, { inactive: true })];

describe('revisionState', () => {
  test.each([
    ['web:1', 'ACTIVE'],
    ['web:2', 'INACTIVE'],
    ['web:9', 'MISSING'],
    ['api:1', 'MISSING'],
    ['web', 'MISSING'],
  ])('%s is %s', (ref, state) => {
    expect(revisionState(revisions, ns, ref)).toBe(state);
  });

  test('a revision of another namespace is MISSING', () => {
    expect(revisionState(revisions, 'team-b', 'web:1')).toBe('MISSING');
  });
});

test('the latest ACTIVE revision skips INACTIVE ones', () => {
  expect(latestActiveRevision(revisions, ns, 'web')?.revision).toBe(3);
  expect(latestActiveRevision(allInactive, ns, 'web')).toBeUndefined();
});

describe('resolveForNewUse (RunTask, a new Service, a deployment to another revision)', () => {
  test('a bare family is its latest ACTIVE revision', () => {
    expect(resolveForNewUse(revisions, ns, 'web')).toEqual({ ok: true, taskDefinition: 'web:3' });
  });

  test('an ACTIVE pin is itself', () => {
    expect(resolveForNewUse(revisions, ns, 'web:1')).toEqual({ ok: true, taskDefinition: 'web:1' });
  });

  test('an INACTIVE pin is refused', () => {
    expect(resolveForNewUse(revisions, ns, 'web:2')).toEqual({
      ok: false,
      reason: 'TaskDefinitionInactive',
      message: 'task definition web:2 is INACTIVE (deregistered): new services and tasks cannot use it',
    });
  });

  test('a missing pin or family is not found', () => {
    expect(resolveForNewUse(revisions, ns, 'web:7')).toMatchObject({ ok: false, reason: 'TaskDefinitionNotFound', message: 'task definition web:7 not found' });
    expect(resolveForNewUse(revisions, ns, 'api')).toMatchObject({ ok: false, reason: 'TaskDefinitionNotFound' });
  });

  test('a family whose every revision is deregistered is refused as INACTIVE', () => {
    expect(resolveForNewUse(allInactive, ns, 'web')).toMatchObject({ ok: false, reason: 'TaskDefinitionInactive' });
  });
});

describe('resolveForService', () => {
  test('a service pinned to the INACTIVE revision it runs keeps it (and may scale on it)', () => {
    expect(resolveForService(revisions, ns, 'web:2', 'web:2')).toEqual({ ok: true, taskDefinition: 'web:2' });
  });

  test('a service following the family stays on its INACTIVE revision rather than rolling back to an older ACTIVE one', () => {
    expect(resolveForService(revisions, ns, 'web', 'web:4')).toEqual({ ok: true, taskDefinition: 'web:4' });
    expect(resolveForService(allInactive, ns, 'web', 'web:1')).toEqual({ ok: true, taskDefinition: 'web:1' });
  });

  test('a newer ACTIVE revision moves a service following the family on', () => {
    expect(resolveForService(revisions, ns, 'web', 'web:2')).toEqual({ ok: true, taskDefinition: 'web:3' });
  });

  test('changing the pin to an INACTIVE revision is refused', () => {
    expect(resolveForService(revisions, ns, 'web:2', 'web:3')).toMatchObject({ ok: false, reason: 'TaskDefinitionInactive' });
    expect(resolveForService(revisions, ns, 'web:4', 'web:2')).toMatchObject({ ok: false, reason: 'TaskDefinitionInactive' });
  });

  test('a new service (nothing running) follows the rules for new uses', () => {
    expect(resolveForService(revisions, ns, 'web', undefined)).toEqual({ ok: true, taskDefinition: 'web:3' });
    expect(resolveForService(revisions, ns, 'web:2', undefined)).toMatchObject({ ok: false, reason: 'TaskDefinitionInactive' });
  });

  test('a running revision that is gone is not found', () => {
    expect(resolveForService(revisions, ns, 'web:8', 'web:8')).toMatchObject({ ok: false, reason: 'TaskDefinitionNotFound' });
  });
});
