import type { RestClient } from './rest-client';

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string } };
}

/**
 * The user the API server takes these credentials for (`kubectl auth whoami`): a SelfSubjectReview, which
 * every authenticated user may create. In a Pod, `system:serviceaccount:<namespace>:<name>`.
 */
export async function whoAmI(client: RestClient): Promise<string> {
  const review = await client.request<SelfSubjectReview>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  const username = review.status?.userInfo?.username;
  if (!username) throw new Error('the API server answered a SelfSubjectReview without a username');
  return username;
}
