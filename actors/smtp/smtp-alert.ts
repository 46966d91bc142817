import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import { WindowFencedOutput } from '../../src/index.ts';
import type { Alert } from '../machine-data/types.ts';
import { type AlertAddressing, type AlertMessageProps, alertAddressing, alertMail } from './alert-message.ts';
import { AlertSender } from './alert-sender.ts';
import { AlertConfigError } from './errors.ts';
import { AlertOutbox } from './outbox.ts';
import { type AlertClock, RateLimiter, realClock } from './rate-limiter.ts';

export interface SmtpAlertProps extends AlertMessageProps {
  /** The SMTP server, as SMTP_URL: `smtp://host:port`, `smtp://user:pass@host:port`, `smtps://…` (TLS). */
  url: string;
  /**
   * The outbox directory (see AlertOutbox): it must live as long as the snapshot store and belong to it
   * alone (for example next to it); with several partitions each writes under `p<partition>`.
   */
  outbox: string;
  /** Never upgrade with STARTTLS. Default: true for a loopback host (a plain test server), false otherwise. */
  ignoreTLS?: boolean;
  /** At most this many messages (attempts) per second; more wait, none is dropped. Default 10. */
  maxPerSecond?: number;
  /** Backoff between attempts while the server is down or answers 4xx: doubles from `initialMs` to `maxMs`. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Connection, greeting and socket timeout (ms). Default 10,000. */
  timeoutMs?: number;
  /**
   * Teardown (a graceful stop, or a recovery replacing the instance, which waits for it) sends what is
   * queued until the outbox is empty, giving up once this long passes with attempts failing and none
   * acknowledged (the server down: ms, wall clock), or after 2 minutes in all. Default 5,000. What is left stays in the
   * outbox for the next instance or run.
   */
  drainMs?: number;
  /**
   * Called before each wait for a retry (for a progress line: "SMTP down, retrying"). Either way the
   * operator writes one stderr line when sending starts failing and one when it works again.
   */
  onRetry?: (e: { messageId: string; attempt: number; delayMs: number; error: Error }) => void;
  /** Called once an alert's acknowledgement is durable in the outbox. */
  onSent?: (messageId: string) => void;
  /** Injected time (tests); default the wall clock. */
  clock?: AlertClock;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * E-mails each Alert through an SMTP server (nodemailer): at least once, with a deterministic Message-ID
 * of application, window, resource and key, and never again once the server acknowledged it.
 *
 * A window's alerts go into the outbox at its endWindow (AlertOutbox: exactly once per window, fenced), and
 * a background sender (AlertSender) mails them oldest first, one at a time, under the rate limit, recording
 * each acknowledgement durably before the next. So the application never waits for the mail server: one
 * that is down or answers 4xx is retried with exponential backoff (`onRetry` says so) while windows go on,
 * and what was queued is sent when it is back — by this instance, or after a crash or relaunch by the next
 * one, which finds it in the outbox. The only resend is a crash inside one window that SMTP cannot close
 * (it has no idempotent submission): it opens when the server decides to accept the message (it may be
 * delivered from then on) and closes when the acknowledgement file is created in the outbox — for a
 * process kill, when `openSync` of `acked/<window>-<n>` returns; for a power cut, when the directory's
 * fsync does. In between: the 250 reply's trip back, nodemailer parsing it and calling back (no timer on
 * its success path) and two promise continuations; nothing else runs first. The resent copy carries the
 * same Message-ID (a receiver can drop it), and one message is in flight at a time, so a crash resends at
 * most one alert (test/actors/smtp/smtp-alert.test.ts kills a run exactly there). A 5xx answer stops the sender and fails the next window
 * (SmtpRejectedError, not restartable): fix the configuration and relaunch; the alert is still queued.
 * Header fields from data or configuration have CR/LF stripped; recipients must be plain addresses (see
 * parseAddressList).
 */
export class SmtpAlert extends WindowFencedOutput<Alert, {}, SmtpAlertProps> {
  private readonly addressing: AlertAddressing;
  private outbox!: AlertOutbox;
  private transport?: Transporter;
  private sender?: AlertSender;

  constructor(props?: SmtpAlertProps) {
    super(props);
    this.addressing = alertAddressing(this.props);
    if (!/^smtps?:\/\//.test(this.props.url ?? '')) {
      throw new AlertConfigError('url', this.props.url ?? '', 'smtp://host:port or smtps://host:port');
    }
    if (!this.props.outbox) throw new AlertConfigError('outbox', '', 'a directory for the outbox');
  }

  protected override open(): void {
    const dir =
      this.ctx.partitions > 1 ? join(this.props.outbox, `p${this.ctx.partition}`) : this.props.outbox;
    this.outbox = new AlertOutbox(dir, this.ctx.actorId);
    const host = new URL(this.props.url).hostname;
    const timeout = this.props.timeoutMs ?? 10_000;
    this.transport = createTransport({
      url: this.props.url,
      pool: true,
      maxConnections: 1,
      ignoreTLS: this.props.ignoreTLS ?? LOOPBACK.has(host),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    } as Parameters<typeof createTransport>[0]);
    // A pooled connection that fails while idle reports it here; the next send fails and is retried.
    this.transport.on('error', () => {});
  }

  /** Claims the outbox, then starts sending what an earlier instance or run left in it. */
  protected override claim(epoch: number): void {
    this.outbox.claim(epoch);
    const clock = this.props.clock ?? realClock;
    const app = this.ctx.applicationName;
    this.sender = new AlertSender({
      outbox: this.outbox,
      transport: this.transport!,
      limiter: new RateLimiter(this.props.maxPerSecond ?? 10, clock),
      clock,
      epoch,
      compose: (alert) => alertMail(app, alert, this.addressing),
      retry: { initialMs: this.props.retry?.initialMs ?? 100, maxMs: this.props.retry?.maxMs ?? 5_000 },
      onRetry: this.props.onRetry,
      onSent: this.props.onSent,
      report: (line) => process.stderr.write(`sluice: ${this.ctx.actorId}: ${line}\n`),
    });
    this.sender.start();
  }

  protected override lastAppliedWindow(): number {
    return this.outbox.lastApplied();
  }

  protected override applyWindow(window: number, alerts: Alert[], epoch: number): void {
    if (this.sender?.failure) throw this.sender.failure;
    this.outbox.queueWindow(window, alerts, epoch);
    this.sender?.notify();
  }

  protected override async close(): Promise<void> {
    await this.sender?.drain(this.props.drainMs ?? 5_000);
    this.transport?.close();
    const left = this.outbox?.size ?? 0;
    if (left > 0 && !this.sender?.failure) {
      process.stderr.write(
        `sluice: ${this.ctx.actorId}: ${left} alerts not sent yet stay in the outbox ${this.outbox.dir}; the next run sends them\n`,
      );
    }
    // A graceful stop after a refusal: the run reports it (a warning) rather than end as if all was sent.
    if (this.sender?.failure) throw this.sender.failure;
  }
}
