import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { FencedOutputError } from '../../src/index.ts';
import type { Alert } from '../machine-data/types.ts';
import { SmtpRejectedError } from './errors.ts';
import type { AlertOutbox, QueuedAlert } from './outbox.ts';
import type { AlertClock, RateLimiter } from './rate-limiter.ts';

export interface AlertSenderOptions {
  outbox: AlertOutbox;
  transport: Transporter;
  limiter: RateLimiter;
  clock: AlertClock;
  /** The epoch of the instance: a newer one claiming the outbox stops this sender. */
  epoch: number;
  compose: (alert: Alert) => Mail.Options;
  retry: { initialMs: number; maxMs: number };
  onRetry?: (e: { messageId: string; attempt: number; delayMs: number; error: Error }) => void;
  onSent?: (messageId: string) => void;
  /** Where the outage lines go (one when sending starts failing, one when it works again). */
  report: (line: string) => void;
}

/** The longest a drain keeps sending, however steadily the server acknowledges. */
export const DRAIN_CAP_MS = 120_000;

/**
 * Drains an AlertOutbox in the background, one message at a time, oldest first:
 *
 *     idle ──notify()──▶ sending ──250──▶ acknowledge ──▶ next … ──empty──▶ idle
 *                          │ down / 4xx: wait (backoff, doubling to maxMs), same message again
 *                          │ 5xx (or onSent throws): stop; `failure` is set (SmtpAlert fails its
 *                          │   next window with it, and reports it at teardown)
 *                          │ fence moved (a newer instance): stop quietly
 *     drain(idleMs): send until the outbox is empty, or until idleMs pass with attempts failing and
 *       none acknowledged (the server down), or DRAIN_CAP_MS in all; stop(): at once (a wait is cut short)
 *
 * The pipeline never waits for the mail server: a window is done once its alerts are in the outbox.
 */
export class AlertSender {
  /** A permanent refusal (5xx): nothing more is sent by this instance. */
  failure?: Error;
  private wake?: () => void;
  private stopped = false;
  private draining = false;
  private readonly stopSignal: Promise<void>;
  private signalStop!: () => void;
  private running?: Promise<void>;
  /** Failed attempts since the last acknowledged alert: an outage in progress when > 0. */
  private failing = 0;
  /** Alerts acknowledged by this sender (drain watches it move). */
  private acknowledged = 0;

  constructor(private readonly o: AlertSenderOptions) {
    this.stopSignal = new Promise((resolve) => {
      this.signalStop = resolve;
    });
  }

  start(): void {
    this.running = this.loop();
  }

  /** New alerts were queued. */
  notify(): void {
    this.wake?.();
  }

  /**
   * Sends what is queued, then stops: until the outbox is empty, as long as acknowledgements keep coming
   * (a queue longer than the rate limit sends in `idleMs` is still sent whole); it gives up once `idleMs`
   * pass without one while attempts fail (the server down), or after DRAIN_CAP_MS.
   */
  async drain(idleMs: number): Promise<void> {
    this.draining = true;
    this.notify();
    let done = false;
    void this.running?.then(() => (done = true));
    const started = Date.now();
    for (;;) {
      const before = this.acknowledged;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, idleMs)))]);
      clearTimeout(timer);
      // No acknowledgement in a whole slice: give up if attempts are failing (not when the rate limit waits).
      const stuck = this.acknowledged === before && this.failing > 0;
      if (done || stuck || Date.now() - started >= DRAIN_CAP_MS) break;
    }
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    this.notify();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const q = this.o.outbox.next();
      if (!q) {
        if (this.draining) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      let messageId: string;
      try {
        messageId = await this.deliver(q);
      } catch (e) {
        if (!(e instanceof FencedOutputError) && !this.stopped) this.failure = e as Error;
        return;
      }
      this.o.outbox.acknowledge(q);
      this.acknowledged++;
      try {
        this.o.onSent?.(messageId);
      } catch (e) {
        this.failure = e as Error; // the callback's own failure: SmtpAlert fails its next window with it
        return;
      }
    }
  }

  /** Sends one queued alert until the server acknowledges it; checks the fence before every attempt. */
  private async deliver(q: QueuedAlert): Promise<string> {
    const mail = this.o.compose(q.alert);
    const messageId = mail.messageId!;
    let delay = this.o.retry.initialMs;
    for (let attempt = 1; ; attempt++) {
      await this.o.limiter.acquire();
      if (this.stopped) throw new Error('stopped');
      this.o.outbox.fence.check(this.o.epoch);
      try {
        await this.o.transport.sendMail(mail);
        if (this.failing > 0) {
          this.o.report(
            `SMTP is back: sent ${messageId} after ${this.failing} failed attempts; ${this.o.outbox.size - 1} more alerts queued`,
          );
          this.failing = 0;
        }
        return messageId;
      } catch (e) {
        const error = e as Error & { responseCode?: number; response?: string };
        const code = error.responseCode;
        if (code !== undefined && code >= 500 && code < 600) {
          throw new SmtpRejectedError(messageId, code, error.response ?? error.message, error);
        }
        if (this.failing++ === 0) {
          this.o.report(
            `SMTP send failed (${error.message}); retrying with backoff, ${this.o.outbox.size} alerts queued in the outbox`,
          );
        }
        this.o.onRetry?.({ messageId, attempt, delayMs: delay, error });
        await Promise.race([this.o.clock.sleep(delay), this.stopSignal]);
        delay = Math.min(delay * 2, this.o.retry.maxMs);
      }
    }
  }
}
