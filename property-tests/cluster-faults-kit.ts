/**
 * A supervisor and 2–3 node processes on 127.0.0.1 that a fault schedule can hurt: kill a node (the
 * platform then starts it again under the same id), kill the supervisor (and start another on the same
 * port and store), or drop a node's connection to the supervisor. Each node joins through a TCP relay of
 * its own in this process, so dropping its connection is destroying the relay's sockets: the node and
 * the supervisor both see the connection end abruptly, as on a real network cut.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { ClusterClient } from '../src/cluster-run/cluster-client.ts';
import type { ClusterStatus } from '../src/cluster-run/supervisor-protocol.ts';
import { repoRoot, type SluiceProcess, startSluice } from '../test/cli/cli-process.ts';

/** A TCP relay to `port` on 127.0.0.1 whose connections can all be cut at once. */
export class Relay {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  static async listen(target: number): Promise<Relay> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = tcpConnect(target, '127.0.0.1');
      for (const [s, other] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        sockets.add(s);
        s.on('error', () => other.destroy());
        s.on('close', () => {
          sockets.delete(s);
          other.destroy();
        });
        s.pipe(other);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Relay(server, sockets, (server.address() as { port: number }).port);
  }

  /** Cuts every relayed connection (a reset, no close handshake); new ones are relayed again. */
  drop(): number {
    const n = this.sockets.size;
    for (const s of [...this.sockets]) s.resetAndDestroy();
    return n;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export type FaultCluster = {
  readonly nodeIds: readonly string[];
  /** Every process that ran, in order (the evidence of a failed case). */
  dump(): string;
  status(): Promise<ClusterStatus>;
  /** Runs `f` with a launcher connection, reconnecting and trying again while the supervisor is away. */
  withClient<T>(f: (c: ClusterClient) => Promise<T>): Promise<T>;
  /** SIGKILL; the node is started again in the background, as a platform would (awaited before its next fault). */
  killNode(id: string): Promise<void>;
  restartSupervisor(): Promise<void>;
  /** The number of connections cut (0 while the node is between connections). */
  dropConnection(id: string): Promise<number>;
  stop(): Promise<void>;
};

export async function startFaultCluster(
  store: string,
  nodeIds: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<FaultCluster> {
  const all: [string, SluiceProcess][] = [];
  const startSupervisor = async (port: number) => {
    const p = startSluice(['supervisor', '--listen', `127.0.0.1:${port}`, '--store', store], repoRoot, env);
    all.push(['supervisor', p]);
    await p.waitFor('stdout', /listening on ws:\/\/\S+\n/);
    return p;
  };
  let supervisor = await startSupervisor(0);
  const url = /listening on (ws:\/\/\S+)\n/.exec(supervisor.stdout)![1]!;
  const port = Number(new URL(url).port);
  const relays = new Map<string, Relay>();
  const nodes = new Map<string, SluiceProcess>();
  let stopping = false;
  const startNode = async (id: string) => {
    const relay = relays.get(id)!;
    // A restarted node may find its old connection not yet seen closed (duplicate id): it tries again.
    for (let attempt = 1; !stopping; attempt++) {
      const node = startSluice(
        ['node', '--join', `ws://127.0.0.1:${relay.port}`, '--id', id, '--containers', '2'],
        repoRoot,
        env,
      );
      all.push([`node ${id}`, node]);
      nodes.set(id, node);
      try {
        await node.waitFor('stdout', /joined/);
        return;
      } catch (e) {
        if (stopping) return;
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  };
  /** Nodes being started again after a kill. */
  const restarting = new Map<string, Promise<void>>();
  const settled = (id: string) => restarting.get(id) ?? Promise.resolve();
  for (const id of nodeIds) relays.set(id, await Relay.listen(port));
  await Promise.all(nodeIds.map(startNode));
  let client: ClusterClient | undefined;
  const withClient = async <T>(f: (c: ClusterClient) => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        client ??= await ClusterClient.connect(url);
        return await f(client);
      } catch (e) {
        if (!/SLUICE_CLUSTER_CLOSED|ECONNREFUSED|closed|gone/i.test(String((e as Error).message ?? e)))
          throw e;
        client?.close();
        client = undefined;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  return {
    nodeIds,
    dump: () => all.map(([name, p]) => `--- ${name}\n${p.stderr}`).join(''),
    withClient,
    status: () => withClient((c) => c.status()),
    async killNode(id) {
      await settled(id);
      const node = nodes.get(id)!;
      node.child.kill('SIGKILL');
      await node.exited;
      // Caught here, rethrown to a later fault on this node (which needs it up).
      const started = startNode(id);
      started.catch(() => {});
      restarting.set(id, started);
    },
    async restartSupervisor() {
      client?.close();
      client = undefined;
      supervisor.child.kill('SIGKILL');
      await supervisor.exited;
      supervisor = await startSupervisor(port);
    },
    async dropConnection(id) {
      await settled(id);
      return relays.get(id)!.drop();
    },
    async stop() {
      stopping = true;
      client?.close();
      for (const [, p] of all)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(all.map(([, p]) => p.exited));
      await Promise.all([...relays.values()].map((r) => r.close()));
      await Promise.allSettled(restarting.values());
    },
  };
}
