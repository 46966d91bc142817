import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { FileFence } from '../file-fence.ts';
import type { Alert } from '../machine-data/types.ts';

/** One alert waiting to be sent: the window it was applied in and its place there. */
export interface QueuedAlert {
  window: number;
  index: number;
  alert: Alert;
}

const QUEUE_FILE = /^(\d{12})\.json$/;
const ACK_FILE = /^(\d{12})-(\d{8})$/;
const TEMP_FILE = /\.(\d+)\.tmp$/;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * The outbox of SmtpAlert: a directory that holds every alert from the moment its window is applied until
 * the SMTP server has acknowledged it.
 *
 *     <dir>/.fence/<epoch>             FileFence: the newest epoch that claimed the outbox
 *     <dir>/queue/<window>.json        the alerts of one applied window, in order
 *     <dir>/acked/<window>-<n>         alert n of that window was acknowledged
 *     <dir>/applied                    the newest window whose alerts are queued (renamed into place)
 *
 *     endWindow(w): queue/w.json linked into place ─▶ applied := w          (fenced; once per window)
 *     sender:       oldest unacknowledged alert ─▶ SMTP ─▶ 250 ─▶ acked/w-n ─▶ (window done: remove both)
 *
 * Why a directory of its own, not operator state: state is checkpointed every few windows, so an alert
 * acknowledged after the last checkpoint would be forgotten in a crash and sent again by the replay. Here
 * the acknowledgement is durable at once (the ack file, its directory synced), and a replayed window at
 * or below `applied` is skipped whole, so an alert is queued once and, acknowledged, never sent again.
 * (A window's file is linked, never replaced, before `applied` moves: a crash between the two leaves the
 * file, the replay links it again — EEXIST — and moves `applied`.) The one resend left is a crash between
 * the server's 250 and the ack file: the alert goes again with the same Message-ID (at-least-once with a
 * deterministic id; a receiver can drop the copy).
 *
 * The queue holds alerts, not composed messages, so a relaunch with a fixed ALERT_TO sends what is left
 * to the new address. The fence makes a replaced instance stop sending (SmtpAlert checks it before each
 * send). The outbox belongs to one snapshot store: delete them together (a fresh store starts again at
 * window 1; the fence refuses it only if the old run reached a newer epoch).
 */
export class AlertOutbox {
  readonly fence: FileFence;
  private readonly queueDir: string;
  private readonly ackDir: string;
  private applied = 0;
  /** Windows with alerts still to send, oldest first, and what was acknowledged of each. */
  private readonly windows: number[] = [];
  private readonly pending = new Map<number, { alerts: Alert[]; acked: Set<number> }>();
  private count = 0;

  constructor(
    readonly dir: string,
    owner: string,
  ) {
    this.fence = new FileFence(dir, owner);
    this.queueDir = join(dir, 'queue');
    this.ackDir = join(dir, 'acked');
  }

  /** Claims the outbox for `epoch` and reads what is still to send; returns the last applied window. */
  claim(epoch: number): number {
    mkdirSync(this.queueDir, { recursive: true });
    mkdirSync(this.ackDir, { recursive: true });
    this.fence.claim(epoch);
    try {
      this.applied = Number(readFileSync(join(this.dir, 'applied'), 'utf8')) || 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.applied = 0;
    }
    this.windows.length = 0;
    this.pending.clear();
    this.count = 0;
    for (const name of readdirSync(this.queueDir)) {
      const temp = TEMP_FILE.exec(name);
      if (temp && Number(temp[1]) < epoch) rmSync(join(this.queueDir, name), { force: true });
      const m = QUEUE_FILE.exec(name);
      // A window above `applied` was linked by a crashed apply: its replay links it again (EEXIST) and adds it.
      if (m && Number(m[1]) <= this.applied) this.load(Number(m[1]));
    }
    for (const name of readdirSync(this.ackDir)) {
      const m = ACK_FILE.exec(name);
      const entry = m ? this.pending.get(Number(m[1])) : undefined;
      if (entry) {
        entry.acked.add(Number(m![2]));
        this.count--;
      } else if (m && Number(m[1]) <= this.applied) rmSync(join(this.ackDir, name), { force: true });
    }
    this.windows.sort((a, b) => a - b);
    for (const w of [...this.windows]) this.finishIfDone(w);
    return this.applied;
  }

  lastApplied(): number {
    return this.applied;
  }

  /** Alerts queued and not acknowledged yet. */
  get size(): number {
    return this.count;
  }

  /**
   * Queues the alerts of `window` and makes it the last applied window; refused (FencedOutputError) if a
   * newer epoch claimed the outbox. The window's file is linked into place right after the fence check, in
   * one synchronous step, and never replaces one that is there.
   */
  queueWindow(window: number, alerts: readonly Alert[], epoch: number): void {
    if (alerts.length > 0) {
      const file = join(this.queueDir, `${pad(window, 12)}.json`);
      const temp = `${file}.${epoch}.tmp`;
      writeDurably(temp, JSON.stringify(alerts));
      try {
        this.fence.check(epoch);
        linkSync(temp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        rmSync(temp, { force: true });
      }
      syncDir(this.queueDir);
    } else this.fence.check(epoch);
    writeDurably(join(this.dir, 'applied.tmp'), String(window));
    renameSync(join(this.dir, 'applied.tmp'), join(this.dir, 'applied'));
    syncDir(this.dir);
    this.applied = window;
    if (alerts.length > 0 && !this.pending.has(window)) {
      this.load(window);
      this.windows.sort((a, b) => a - b);
    }
  }

  /** The oldest alert still to send, or undefined. */
  next(): QueuedAlert | undefined {
    const window = this.windows[0];
    if (window === undefined) return undefined;
    const { alerts, acked } = this.pending.get(window)!;
    for (let index = 0; index < alerts.length; index++) {
      if (!acked.has(index)) return { window, index, alert: alerts[index]! };
    }
    return undefined;
  }

  /** The server acknowledged `q`: durable before this returns; a window fully acknowledged is removed. */
  acknowledge(q: QueuedAlert): void {
    const entry = this.pending.get(q.window);
    if (!entry || entry.acked.has(q.index)) return;
    closeSync(openSync(join(this.ackDir, `${pad(q.window, 12)}-${pad(q.index, 8)}`), 'w'));
    syncDir(this.ackDir);
    entry.acked.add(q.index);
    this.count--;
    this.finishIfDone(q.window);
  }

  private load(window: number): void {
    const alerts = JSON.parse(
      readFileSync(join(this.queueDir, `${pad(window, 12)}.json`), 'utf8'),
    ) as Alert[];
    this.pending.set(window, { alerts, acked: new Set() });
    this.windows.push(window);
    this.count += alerts.length;
  }

  /** Every alert of `window` acknowledged: its file goes first, then its ack files (a crash between: claim clears them). */
  private finishIfDone(window: number): void {
    const entry = this.pending.get(window)!;
    if (entry.acked.size < entry.alerts.length) return;
    rmSync(join(this.queueDir, `${pad(window, 12)}.json`), { force: true });
    syncDir(this.queueDir);
    for (const i of entry.acked)
      rmSync(join(this.ackDir, `${pad(window, 12)}-${pad(i, 8)}`), { force: true });
    this.pending.delete(window);
    this.windows.splice(this.windows.indexOf(window), 1);
  }
}

function writeDurably(file: string, data: string): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the directory's entries durable (a created, renamed or removed file survives a power cut too). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
