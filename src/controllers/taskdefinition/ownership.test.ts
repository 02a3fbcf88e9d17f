import { familyOwner } from './ownership';
import { storedRevision, storedTaskDefinition } from '../../ecs/revisions/testing/revisions';

const older = '2025-01-01T00:00:00Z';
const newer = '2025-01-01T00:00:05Z';

describe('familyOwner', () => {
  test('the object that registered the stored revisions owns the family, even when another is older', () => {
    const web = storedTaskDefinition('web', { created: newer });
    const copy = storedTaskDefinition('web-copy', { family: 'web', created: older });
    expect(familyOwner([copy, web], [storedRevision(web, 1)])?.metadata.name).toBe('web');
  });

  test('without revisions, the oldest object owns it; the name breaks a tie', () => {
    const a = storedTaskDefinition('web-a', { family: 'web', created: newer });
    const b = storedTaskDefinition('web-b', { family: 'web', created: older });
    const c = storedTaskDefinition('web-c', { family: 'web', created: older });
    expect(familyOwner([a, c, b], [])?.metadata.name).toBe('web-b');
  });

  test('an object being deleted owns nothing: the family passes to a waiting one', () => {
    const web = storedTaskDefinition('web', { created: older, deleting: true });
    const copy = storedTaskDefinition('web-copy', { family: 'web', created: newer });
    expect(familyOwner([web, copy], [storedRevision(web, 1, { inactive: true }), storedRevision(web, 2)])?.metadata.name).toBe('web-copy');
  });

  test('when two objects registered revisions (a history from before ownership), the older one keeps the family', () => {
    const web = storedTaskDefinition('web', { created: older });
    const copy = storedTaskDefinition('web-copy', { family: 'web', created: newer });
    expect(familyOwner([copy, web], [storedRevision(web, 1), storedRevision(copy, 2)])?.metadata.name).toBe('web');
  });

  test('a family nobody living claims has no owner', () => {
    expect(familyOwner([storedTaskDefinition('web', { deleting: true })], [])).toBeUndefined();
  });
});
