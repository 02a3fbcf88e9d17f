import { KubeConfig } from '@kubernetes/client-node';

/** --kubeconfig when given, else in-cluster config, $KUBECONFIG or ~/.kube/config (client-node's default order). */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else config.loadFromDefault();
  return config;
}

/** The namespace a command acts in when -n is not given: the current context's, else `default`, as kubectl does. */
export function contextNamespace(config: KubeConfig): string {
  return config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
}
