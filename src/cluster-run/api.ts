/**
 * The cluster's node and launcher API, exported from 'sluice' (the supervisor's is in index.ts, the
 * composition root, which alone may import supervisors/). Functions that import their modules when
 * called: every application module imports 'sluice' (in every container too), and must not load ws,
 * the cluster protocol and the supervisor for that.
 */
import type { ClusterClient, ClusterClientOptions } from './cluster-client.ts';
import type { ClusterNode, NodeOptions } from './node-agent.ts';

/** Starts a node that joins the supervisor at `options.join` and hosts the containers placed on it. */
export async function startClusterNode(options: NodeOptions): Promise<ClusterNode> {
  const { ClusterNode } = await import('./node-agent.ts');
  return ClusterNode.start(options);
}

/**
 * Connects to a supervisor as a launcher: launch, wait, status, stop, kill. The secret: `options.secret`,
 * else SLUICE_SECRET from the environment, as the CLI and `launch(app, { cluster })` take it.
 */
export async function connectCluster(
  url: string,
  options: ClusterClientOptions = {},
): Promise<ClusterClient> {
  const { ClusterClient } = await import('./cluster-client.ts');
  const { loadSecret } = await import('../cluster/secret.ts');
  return ClusterClient.connect(url, { ...options, secret: options.secret ?? loadSecret() });
}
