import { KubeConfig } from '@kubernetes/client-node';

/**
 * --kubeconfig when given, else in-cluster config, $KUBECONFIG or ~/.kube/config (client-node's default order);
 * --context picks another context of it, as kubectl's flag does.
 */
export function loadKubeConfig(file: string | undefined, context?: string): KubeConfig {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else config.loadFromDefault();
  if (context !== undefined) {
    if (!config.getContextObject(context)) throw new Error(`context "${context}" does not exist in the kubeconfig`);
    config.setCurrentContext(context);
  }
  return config;
}

/** The namespace a command acts in when -n is not given: the current context's, else `default`, as kubectl does. */
export function contextNamespace(config: KubeConfig): string {
  return config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
}
