import type { ResourceType } from './object-store';

/** The built-in Kubernetes resources Berth reads or writes, besides its own kinds. */

const core = (kind: string, plural: string, statusSubresource = false): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  namespaced: kind !== 'Namespace',
  statusSubresource,
});

export const secrets = core('Secret', 'secrets');
export const configMaps = core('ConfigMap', 'configmaps');
export const serviceAccounts = core('ServiceAccount', 'serviceaccounts');
export const namespaces = core('Namespace', 'namespaces', true);
export const events = core('Event', 'events');
export const pods = core('Pod', 'pods', true);
export const nodes: ResourceType = { ...core('Node', 'nodes', true), namespaced: false };

export const controllerRevisions: ResourceType = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  statusSubresource: false,
};

export const leases: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  statusSubresource: false,
};

export const customResourceDefinitions: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
  statusSubresource: true,
};

export const validatingWebhookConfigurations: ResourceType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
  statusSubresource: false,
};

export const horizontalPodAutoscalers: ResourceType = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  namespaced: true,
  statusSubresource: true,
};
