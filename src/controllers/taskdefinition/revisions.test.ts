import { planRevision, specHash } from './revisions';
import { storedRevision, storedTaskDefinition } from './testing/revisions';

const web = storedTaskDefinition('web');
const copy = storedTaskDefinition('web-copy', { family: 'web' });
const spec = { containerDefinitions: [{ name: 'app', image: 'busybox:2' }] };
const hash = specHash(spec);

describe('planRevision', () => {
  test('the first registration is revision 1', () => {
    expect(planRevision(spec, [], 'uid-web')).toEqual({ action: 'register', revision: 1, hash });
  });

  test('a spec equal to the latest revision this object registered registers nothing', () => {
    const latest = storedRevision(web, 2, { hash });
    expect(planRevision(spec, [storedRevision(web, 1), latest], 'uid-web')).toEqual({ action: 'current', revision: latest });
  });

  test('a spec equal to a deregistered latest revision is not registered again', () => {
    const latest = storedRevision(web, 2, { hash, inactive: true });
    expect(planRevision(spec, [storedRevision(web, 1), latest], 'uid-web')).toEqual({ action: 'deregistered', revision: latest });
  });

  test('numbers go on from the highest stored revision, INACTIVE ones included', () => {
    expect(planRevision(spec, [storedRevision(web, 1), storedRevision(web, 5, { inactive: true })], 'uid-web')).toMatchObject({ revision: 6 });
  });

  test("an object taking a family over registers its spec even when it equals the previous owner's latest", () => {
    expect(planRevision(spec, [storedRevision(web, 3, { hash, inactive: true })], copy.metadata.uid!)).toEqual({ action: 'register', revision: 4, hash });
  });
});
