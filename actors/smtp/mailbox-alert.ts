import { existsSync, linkSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { WindowFencedOutput } from '../../src/index.ts';
import { FileFence } from '../file-fence.ts';
import type { Alert } from '../machine-data/types.ts';
import {
  type AlertAddressing,
  type AlertMessageProps,
  alertAddressing,
  alertId,
  alertMail,
} from './alert-message.ts';
import { AlertConfigError } from './errors.ts';
import { syncDir } from './outbox.ts';

/** Alert files written at once (each write waits for its fsync). */
const WRITES_AT_ONCE = 32;

export interface MailboxAlertProps extends AlertMessageProps {
  /** The mailbox folder: one `<id>.eml` per alert (created if missing). */
  dir: string;
  /** Called once an alert's file is in place (not for one a replay found there). */
  onSent?: (messageId: string) => void;
}

/** A message's body while it is written: `<id>.eml.<epoch>.tmp`. */
const TEMP_FILE = /\.eml\.(\d+)\.tmp$/;

/**
 * The embedded stand-in for SmtpAlert (`npm start` needs no mail server): each Alert becomes an RFC 5322
 * message file, `<dir>/<id>.eml`, built by nodemailer's MailComposer from the very options SmtpAlert sends
 * (same Message-ID, headers and body), so a mail client or `mailparser` reads it as the e-mail it would be.
 *
 * Exactly once per alert: the file is named by the Message-ID, written under a temporary name and linked
 * into place (link never replaces; EEXIST means a replay or an older instance put it there already), so an
 * alert's file exists once, whole, whatever is replayed. The folder is fenced like FileSink's (`.fence/`,
 * FileFence): a replaced instance is refused. The folder belongs to one snapshot store: a run on a fresh
 * store starts again at window 1, and its alerts would find files of the old run under their Message-IDs
 * (the fence refuses it only if the old run reached a newer epoch). Empty the folder with the store.
 */
export class MailboxAlert extends WindowFencedOutput<Alert, {}, MailboxAlertProps> {
  private readonly addressing: AlertAddressing;
  private fence!: FileFence;

  constructor(props?: MailboxAlertProps) {
    super(props);
    this.addressing = alertAddressing(this.props);
    if (!this.props.dir) throw new AlertConfigError('dir', '', 'a mailbox directory');
  }

  protected override async open(): Promise<void> {
    await mkdir(this.props.dir, { recursive: true });
    const fenceDir =
      this.ctx.partitions > 1 ? join(this.props.dir, `.p${this.ctx.partition}`) : this.props.dir;
    this.fence = new FileFence(fenceDir, this.ctx.actorId);
  }

  protected override claim(epoch: number): void {
    this.fence.claim(epoch);
    for (const name of readdirSync(this.props.dir)) {
      const m = TEMP_FILE.exec(name);
      if (m && Number(m[1]) < epoch) rmSync(join(this.props.dir, name), { force: true });
    }
  }

  /** Nothing to skip by window: every alert's file is its own record (the replay finds it and moves on). */
  protected override lastAppliedWindow(): number {
    return 0;
  }

  protected override async applyWindow(_window: number, alerts: Alert[], epoch: number): Promise<void> {
    // One file per alert id (the first alert of an id, as when they were written one after the other).
    const byFile = new Map<string, Alert>();
    for (const alert of alerts) {
      const file = join(this.props.dir, `${alertId(this.ctx.applicationName, alert)}.eml`);
      if (!byFile.has(file)) byFile.set(file, alert);
    }
    const files = [...byFile];
    let wrote = false;
    // A few files at a time: one after the other, each write waited out its own fsync (a window of tens
    // of thousands of alerts outlasted lifecycleTimeoutMs).
    for (let i = 0; i < files.length; i += WRITES_AT_ONCE) {
      const written = await Promise.all(
        files.slice(i, i + WRITES_AT_ONCE).map(([file, alert]) => this.writeAlert(file, alert, epoch)),
      );
      if (written.includes(true)) wrote = true;
    }
    if (wrote) syncDir(this.props.dir);
  }

  /** Writes one alert's file unless it is there already; true if this call wrote it. */
  private async writeAlert(file: string, alert: Alert, epoch: number): Promise<boolean> {
    if (existsSync(file)) return false;
    const mail = alertMail(this.ctx.applicationName, alert, this.addressing);
    const body = await new MailComposer(mail).compile().build();
    const temp = `${file}.${epoch}.tmp`;
    await writeFile(temp, body, { flush: true });
    if (!this.commit(temp, file, epoch)) return false;
    this.props.onSent?.(mail.messageId!);
    return true;
  }

  /** Check and link in one synchronous step (as FileSink's commit); false if the file was there already. */
  private commit(temp: string, file: string, epoch: number): boolean {
    try {
      this.fence.check(epoch);
      linkSync(temp, file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return false;
    } finally {
      rmSync(temp, { force: true });
    }
  }
}
