import { dnsSubdomain } from '../../store/object-names';
import { familySlug, planRevision, revisionName, specHash } from './revisions';
import { storedRevision, storedTaskDefinition } from './testing/revisions';
// Kubernetes label values: at most 63 characters, alphanumeric at both ends.
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('revision names and labels', () => {
  it('keep a family that is already a DNS label', () => {
    expect(familySlug('web')).toBe('web');
    expect(revisionName('web', 3)).toBe('web-3');
    expect(familySlug('Web')).not.toBe(familySlug('web'));
  });

  it.each(['Legacy_App', `${'A'.repeat(200)}_${'b'.repeat(54)}`, '_x_'])('turn the ECS family %s into a valid label value and object name', (family) => {
    const slug = familySlug(family);
    expect(slug.length).toBeLessThanOrEqual(63);
    expect(slug).toMatch(labelValue);
    expect(revisionName(family, 4294967295)).toMatch(dnsSubdomain);
  });
});

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
