/**
 * The SmtpAlert test application for `sluice run` in a child process (the kill test). SMTP_URL and OUTBOX
 * configure the output; with KILL_MARKER set and missing, the process SIGKILLs itself right after the
 * KILL_AFTER-th acknowledgement is durable in the outbox (and creates the marker, so the relaunch runs on).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { smtpAlertApp } from '../alert-app.ts';

let sent = 0;
const marker = process.env.KILL_MARKER;
const killAfter = Number(process.env.KILL_AFTER ?? 0);

export default smtpAlertApp(
  {
    url: process.env.SMTP_URL ?? 'smtp://127.0.0.1:2525',
    outbox: process.env.OUTBOX ?? 'out/outbox',
    to: 'ops@example.test',
    maxPerSecond: 10_000,
    onSent: () => {
      sent++;
      if (marker && sent === killAfter && !existsSync(marker)) {
        writeFileSync(marker, `${sent}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  },
  { checkpointWindowCount: 5 },
);
