import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from './crd-files';
import { allCrds, crdFor, services, tasks } from './index';
import type { JSONSchemaProps } from './schema';

const crdDirectory = join(__dirname, '..', '..', 'crds');

/** Short names and resource names of kube-apiserver 1.34's built-in resources (`kubectl api-resources`). */
const builtinNames = [
  'cj',
  'cm',
  'crd',
  'crds',
  'cs',
  'csr',
  'deploy',
  'ds',
  'ep',
  'ev',
  'hpa',
  'ing',
  'ip',
  'limits',
  'netpol',
  'no',
  'ns',
  'pc',
  'pdb',
  'po',
  'pv',
  'pvc',
  'quota',
  'rc',
  'rs',
  'sa',
  'sc',
  'sts',
  'svc',
  'vac',
  'bindings',
  'componentstatuses',
  'configmaps',
  'endpoints',
  'events',
  'limitranges',
  'namespaces',
  'nodes',
  'persistentvolumeclaims',
  'persistentvolumes',
  'pods',
  'podtemplates',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'serviceaccounts',
  'services',
  'controllerrevisions',
  'daemonsets',
  'deployments',
  'replicasets',
  'statefulsets',
  'horizontalpodautoscalers',
  'cronjobs',
  'jobs',
  'leases',
  'endpointslices',
  'ingresses',
  'networkpolicies',
  'poddisruptionbudgets',
  'priorityclasses',
  'storageclasses',
];

/** Paths of schema nodes that break the structural-schema rules: every node has a type unless it preserves unknown fields. */
function untypedNodes(schema: JSONSchemaProps, path: string): string[] {
  const own = schema.type === undefined && !schema['x-kubernetes-preserve-unknown-fields'] ? [path] : [];
  const children = [
    ...Object.entries(schema.properties ?? {}).map(([key, child]) => untypedNodes(child, `${path}.${key}`)),
    schema.items ? untypedNodes(schema.items, `${path}[]`) : [],
    schema.additionalProperties ? untypedNodes(schema.additionalProperties, `${path}{}`) : [],
  ];
  return [...own, ...children.flat()];
}

describe('crds/', () => {
  it('is what scripts/gen-crds.ts generates from src/api (run it after changing a schema)', () => {
    const generated = renderCrdFiles();
    const committed = readdirSync(crdDirectory).sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [name, content] of generated) expect(readFileSync(join(crdDirectory, name), 'utf8')).toBe(content);
  });
});

describe('CRDs', () => {
  const crds = allCrds();

  it('are namespaced berth.dev/v1alpha1 kinds in the berth category, with a status subresource', () => {
    expect(crds.map((c) => c.spec.names.kind)).toEqual(['Cluster', 'TaskDefinition', 'Service', 'ContainerInstance', 'Task']);
    for (const crd of crds) {
      expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.berth.dev`);
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.names.categories).toEqual(['berth']);
      expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
      expect(crd.spec.versions[0].subresources.status).toEqual({});
    }
  });

  it('have structural schemas', () => {
    for (const crd of crds) expect(untypedNodes(crd.spec.versions[0].schema.openAPIV3Schema, crd.spec.names.kind)).toEqual([]);
  });

  it('have short names that no built-in resource uses', () => {
    const shortNames = crds.flatMap((c) => c.spec.names.shortNames);
    expect(shortNames).toEqual(['bcl', 'btd', 'bsvc', 'bci', 'btask']);
    for (const name of shortNames) expect(builtinNames).not.toContain(name);
  });

  it('give Service a scale subresource on desiredCount', () => {
    expect(crdFor('Service').spec.versions[0].subresources.scale).toEqual({
      specReplicasPath: '.spec.desiredCount',
      statusReplicasPath: '.status.runningCount',
      labelSelectorPath: '.status.selector',
    });
    expect(services.statusSubresource).toBe(true);
    expect(tasks.plural).toBe('tasks');
  });

  it('end their default printer columns with Age; -o wide columns follow it, as in kubectl get pods -o wide', () => {
    for (const crd of crds) {
      const columns = crd.spec.versions[0].additionalPrinterColumns;
      const shown = columns.filter((column) => !column.priority);
      expect(shown.at(-1)?.name).toBe('Age');
      expect(columns.slice(columns.findIndex((column) => column.name === 'Age') + 1).every((column) => (column.priority ?? 0) > 0)).toBe(true);
    }
  });
});
