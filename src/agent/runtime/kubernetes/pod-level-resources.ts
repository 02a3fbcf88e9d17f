import type { KubeConfig } from '@kubernetes/client-node';
import { RestClient } from '../../../store/kube/rest-client';

/**
 * Whether the API server keeps pod-level resources (spec.resources, the PodLevelResources feature): a
 * server-side dry run of a Pod that sets them, read back. An API server without the feature drops the field
 * without a word, so a task's size would silently go; without it Berth spreads the task's cpu and memory
 * over its containers instead.
 */
export async function podLevelResourcesKept(config: KubeConfig, namespace: string): Promise<boolean> {
  const rest = new RestClient(config);
  const probe = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'berth-pod-level-resources-probe-' },
    spec: {
      resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { cpu: '10m', memory: '8Mi' } },
      containers: [{ name: 'probe', image: 'probe' }],
    },
  };
  const stored = await rest.request<{ spec?: { resources?: unknown } }>('POST', `/api/v1/namespaces/${namespace}/pods?dryRun=All`, probe);
  return stored.spec?.resources !== undefined;
}
