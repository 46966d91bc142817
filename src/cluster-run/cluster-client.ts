import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { joinCluster } from '../cluster/client.ts';
import { appBuildHash } from './build-hash.ts';
import { Rpc } from './rpc.ts';
import type { AppSummary, ClusterStatus, LaunchRequest } from './supervisor-protocol.ts';

export type ClusterClientOptions = { secret?: Buffer };

/**
 * A launcher's connection to the cluster supervisor (authenticated like a node's, but its first frame is
 * a call, not a join). Application code is never sent: the request names the module's path, which the
 * supervisor and every node load from their own disks, and the launcher's hash of it.
 */
export class ClusterClient {
  private constructor(private readonly rpc: Rpc) {}

  static async connect(url: string, options: ClusterClientOptions = {}): Promise<ClusterClient> {
    const peer = await joinCluster(url, { secret: options.secret });
    const rpc = new Rpc(peer).attach();
    // The first frame says "launcher" (the supervisor drops a connection that stays silent).
    await rpc.call('hello');
    return new ClusterClient(rpc);
  }

  /** Connects to the first of comma-separated supervisor URLs that answers (the active one of several). */
  static async connectFirst(urls: string, options: ClusterClientOptions = {}): Promise<ClusterClient> {
    let error: unknown;
    for (const url of urls.split(',').map((u) => u.trim())) {
      try {
        return await ClusterClient.connect(url, options);
      } catch (e) {
        error = e;
      }
    }
    throw error;
  }

  /** Launches the application module at `appPath` (resolved here); resolves once it has started. */
  launch(appPath: string, options: Omit<LaunchRequest, 'module' | 'hash'> = {}): Promise<AppSummary> {
    const module = pathToFileURL(resolve(appPath)).href;
    const req: LaunchRequest = { ...options, module, hash: appBuildHash(module) };
    return this.rpc.call('launch', req) as Promise<AppSummary>;
  }

  /** Resolves when the application has ended (done, stopped, killed or failed). */
  wait(name: string): Promise<AppSummary> {
    return this.rpc.call('wait', name) as Promise<AppSummary>;
  }

  status(): Promise<ClusterStatus> {
    return this.rpc.call('status') as Promise<ClusterStatus>;
  }

  kill(name: string): Promise<AppSummary> {
    return this.rpc.call('kill', name) as Promise<AppSummary>;
  }

  /** A graceful stop: the last window is checkpointed and committed. */
  stop(name: string): Promise<AppSummary> {
    return this.rpc.call('stop', name) as Promise<AppSummary>;
  }

  close(): void {
    this.rpc.peer.close('launcher done');
  }
}
