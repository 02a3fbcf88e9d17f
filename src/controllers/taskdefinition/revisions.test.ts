import { dnsSubdomain } from '../../store/object-names';
import { familySlug, revisionName } from './revisions';

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
