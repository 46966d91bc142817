/**
 * The cluster's programmatic API, exported from 'sluice'. Functions that import their modules when
 * called: every application module imports 'sluice' (in every container too), and must not load ws,
 * the cluster protocol and the supervisor for that.
 */
import type { ClusterSupervisor, SupervisorOptions } from '../../supervisors/cluster-supervisor.ts';
import type { ClusterClient, ClusterClientOptions } from './cluster-client.ts';
import type { ClusterNode, NodeOptions } from './node-agent.ts';

/** Starts a cluster supervisor listening on `options.host:port` (`supervisor.url` to join it). */
export async function startClusterSupervisor(options: SupervisorOptions): Promise<ClusterSupervisor> {
  const { ClusterSupervisor } = await import('../../supervisors/cluster-supervisor.ts');
  return ClusterSupervisor.start(options);
}

/** Starts a node that joins the supervisor at `options.join` and hosts the containers placed on it. */
export async function startClusterNode(options: NodeOptions): Promise<ClusterNode> {
  const { ClusterNode } = await import('./node-agent.ts');
  return ClusterNode.start(options);
}

/** Connects to a supervisor as a launcher: launch, wait, status, stop, kill. */
export async function connectCluster(
  url: string,
  options: ClusterClientOptions = {},
): Promise<ClusterClient> {
  const { ClusterClient } = await import('./cluster-client.ts');
  return ClusterClient.connect(url, options);
}
