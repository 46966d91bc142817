/** A console served in this process on a running application (real clock, memory store), for the tests. */
import { serveConsole } from '../../src/console/server.ts';
import { launch, MemorySnapshotStore, type Run } from '../../src/index.ts';
import { Collected, countingApp } from '../metrics/apps.ts';

export interface Served {
  run: Run;
  url: string;
  close(): Promise<void>;
}

export async function serveCounting(options: { address?: string; token?: string } = {}): Promise<Served> {
  const run = await launch(countingApp(new Collected<number>(), { tuplesPerWindow: 200 }), {
    store: new MemorySnapshotStore(),
    streamingWindowMs: 20,
    checkpointWindowCount: 4,
  });
  const server = await serveConsole(options.address ?? '127.0.0.1:0', () => run, options.token);
  return {
    run,
    url: `http://127.0.0.1:${server.address.port}`,
    async close() {
      await server.close();
      await run.stop();
    },
  };
}

/** Resolves with the first message of `type` (rejects if the socket closes first). */
export function nextMessage(ws: import('ws').WebSocket, type: string): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      const m = JSON.parse(String(data)) as Record<string, any>;
      if (m.type !== type) return;
      ws.off('message', onMessage);
      resolve(m);
    };
    ws.on('message', onMessage);
    ws.once('close', (code, reason) =>
      reject(new Error(`closed ${code} ${reason} before a ${type} message`)),
    );
  });
}
