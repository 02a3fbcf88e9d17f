import { retentionReason } from './retention';
import { storedRevision, storedTaskDefinition } from '../../ecs/revisions/testing/revisions';

const web = storedTaskDefinition('web');
const [one, two] = [storedRevision(web, 1, { inactive: true }), storedRevision(web, 2, { inactive: true })];

describe('retentionReason', () => {
  test('a revision in use is kept and says by whom', () => {
    expect(retentionReason(one, [one, two], false, ['Service api', 'Task backup'])).toBe('in use by Service api, Task backup');
  });

  test('the newest revision of a living family is kept, so its number is not handed out again', () => {
    expect(retentionReason(two, [one, two], true, [])).toBe("the family's newest revision, which keeps revision numbers from going back");
  });

  test('an older revision nothing uses may go', () => {
    expect(retentionReason(one, [one, two], true, [])).toBeUndefined();
  });

  test('once no living object claims the family, even its newest revision may go', () => {
    expect(retentionReason(two, [one, two], false, [])).toBeUndefined();
  });
});
