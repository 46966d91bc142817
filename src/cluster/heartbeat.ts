/**
 * Heartbeats of one cluster connection, independent of sockets and of real time: the connection is seen
 * through HeartbeatPeer (three methods), time through an injected Ticker, so tests drive both.
 *
 * Every `intervalMs` a tick: if nothing arrived from the peer since the previous tick, that is one miss;
 * `maxMissed` misses in a row and the peer is declared dead (once; the heartbeat stops). Otherwise a ping
 * goes out, which a live peer answers (any frame counts, a pong or data). So a peer that falls silent is
 * declared dead at the `maxMissed`-th tick after its last frame: within (maxMissed + 1) × intervalMs.
 */
export interface HeartbeatPeer {
  sendPing(seq: number): void;
  /** A tick passed with nothing from the peer; `missed` in a row so far (status, logs). */
  missed(missed: number): void;
  declareDead(missed: number): void;
}

/** Periodic callbacks; returns a cancel function. RealTicker in production, ManualTicker in tests. */
export interface Ticker {
  every(ms: number, tick: () => void): () => void;
}

export const realTicker: Ticker = {
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export const HEARTBEAT_MS = 1000;
export const MAX_MISSED = 3;

export class Heartbeat {
  #heard = true;
  #missed = 0;
  #seq = 0;
  #cancel: (() => void) | undefined;

  constructor(
    private readonly peer: HeartbeatPeer,
    private readonly ticker: Ticker,
    private readonly intervalMs = HEARTBEAT_MS,
    private readonly maxMissed = MAX_MISSED,
  ) {}

  start(): void {
    this.#cancel ??= this.ticker.every(this.intervalMs, () => this.#tick());
  }

  /** Anything arrived from the peer. */
  heard(): void {
    this.#heard = true;
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #tick(): void {
    if (this.#heard) {
      this.#missed = 0;
    } else {
      this.#missed++;
      this.peer.missed(this.#missed);
      if (this.#missed >= this.maxMissed) {
        this.stop();
        this.peer.declareDead(this.#missed);
        return;
      }
    }
    this.#heard = false;
    this.peer.sendPing(this.#seq++);
  }
}

/** A Ticker that only moves when told: `tick()` runs every registered callback once. */
export class ManualTicker implements Ticker {
  readonly #ticks = new Set<() => void>();

  every(_ms: number, tick: () => void): () => void {
    this.#ticks.add(tick);
    return () => this.#ticks.delete(tick);
  }

  get active(): number {
    return this.#ticks.size;
  }

  tick(): void {
    for (const tick of [...this.#ticks]) tick();
  }
}
