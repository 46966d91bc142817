import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { SluiceError, WindowFencedOutput } from '../../src/index.ts';
import type { Alert } from '../machine-data/types.ts';
import {
  type AlertAddressing,
  type AlertMessageProps,
  alertAddressing,
  alertId,
  alertMail,
} from './alert-message.ts';
import { AlertConfigError, SmtpRejectedError } from './errors.ts';
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
  /** Called before each wait for a retry (for a progress line: "SMTP down, retrying"). */
  onRetry?: (e: { messageId: string; attempt: number; delayMs: number; error: Error }) => void;
  /** Called once an alert's acknowledgement is durable in the outbox. */
  onSent?: (messageId: string) => void;
  /** Injected time (tests); default the wall clock. */
  clock?: AlertClock;
}

/** The output was torn down while an alert was still waiting for a retry. */
export class AlertOutputClosedError extends SluiceError {
  constructor(messageId: string) {
    super(
      'SLUICE_ALERT_OUTPUT_CLOSED',
      `alert ${messageId} not sent: the output was torn down while retrying`,
    );
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * E-mails each Alert through an SMTP server (nodemailer), at least once with a deterministic Message-ID
 * of application, window, resource and key, and never again once the server acknowledged it (the outbox,
 * see AlertOutbox; the only resend is a crash between the server's 250 and the outbox record, and it
 * carries the same Message-ID).
 *
 * A window's alerts are sent at its endWindow, in order, one at a time, under the rate limit; a server that
 * is down or answers 4xx is retried with exponential backoff until it answers (the window, and through
 * backpressure the application, waits; past `lifecycleTimeoutMs` the supervisor restarts the output, which
 * resumes from the outbox). A 5xx answer fails the run (SmtpRejectedError): retrying could not help.
 * Header fields that come from data or configuration have CR/LF stripped; recipients must be plain
 * addresses (see parseAddressList).
 */
export class SmtpAlert extends WindowFencedOutput<Alert, {}, SmtpAlertProps> {
  private readonly addressing: AlertAddressing;
  private outbox!: AlertOutbox;
  private transport?: Transporter;
  private limiter!: RateLimiter;
  private closed = false;

  constructor(props?: SmtpAlertProps) {
    super(props);
    this.addressing = alertAddressing(this.props);
    if (!/^smtps?:\/\//.test(this.props.url ?? '')) {
      throw new AlertConfigError('url', this.props.url ?? '', 'smtp://host:port or smtps://host:port');
    }
    if (!this.props.outbox) throw new AlertConfigError('outbox', '', 'a directory for the outbox');
  }

  private get clock(): AlertClock {
    return this.props.clock ?? realClock;
  }

  protected override open(): void {
    const dir =
      this.ctx.partitions > 1 ? join(this.props.outbox, `p${this.ctx.partition}`) : this.props.outbox;
    this.outbox = new AlertOutbox(dir, this.ctx.actorId);
    this.limiter = new RateLimiter(this.props.maxPerSecond ?? 10, this.clock);
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
  }

  protected override claim(epoch: number): void {
    this.outbox.claim(epoch);
  }

  protected override lastAppliedWindow(): number {
    return this.outbox.lastApplied();
  }

  protected override async applyWindow(window: number, alerts: Alert[], epoch: number): Promise<void> {
    const app = this.ctx.applicationName;
    for (const alert of alerts) {
      const id = alertId(app, alert);
      if (this.outbox.has(window, id)) continue;
      const mail = alertMail(app, alert, this.addressing);
      await this.deliver(mail, epoch);
      // Recorded even if a newer epoch claimed the outbox meanwhile: the server has the message.
      this.outbox.record(window, id);
      this.props.onSent?.(mail.messageId!);
    }
    this.outbox.finish(window);
  }

  /** Sends one message until the server acknowledges it; checks the fence before every attempt. */
  private async deliver(mail: Mail.Options, epoch: number): Promise<void> {
    const { initialMs = 100, maxMs = 5_000 } = this.props.retry ?? {};
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      await this.limiter.acquire();
      if (this.closed) throw new AlertOutputClosedError(mail.messageId!);
      this.outbox.fence.check(epoch);
      try {
        await this.transport!.sendMail(mail);
        return;
      } catch (e) {
        const error = e as Error & { responseCode?: number; response?: string };
        const code = error.responseCode;
        if (code !== undefined && code >= 500 && code < 600) {
          throw new SmtpRejectedError(mail.messageId!, code, error.response ?? error.message, error);
        }
        this.props.onRetry?.({ messageId: mail.messageId!, attempt, delayMs: delay, error });
        await this.clock.sleep(delay);
        delay = Math.min(delay * 2, maxMs);
      }
    }
  }

  protected override close(): void {
    this.closed = true;
    this.transport?.close();
  }
}
