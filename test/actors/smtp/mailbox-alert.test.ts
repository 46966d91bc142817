import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { alertId, alertMessageId } from '../../../actors/smtp/alert-message.ts';
import { LevelSnapshotStore, launch, MemorySnapshotStore } from '../../../src/index.ts';
import { startSmtpServer } from '../../setup/smtp-server.ts';
import { alertOf, mailboxAlertApp, smtpAlertApp } from './alert-app.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-mailbox-'));
  dirs.push(d);
  return d;
}

function emlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

function expectedFiles(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${alertId('alerts', alertOf(i))}.eml`).sort();
}

describe('MailboxAlert', () => {
  it('files a window of thousands of alerts, each once, writing several at a time', async () => {
    const mailbox = tempDir();
    const sent: string[] = [];
    const run = await launch(
      mailboxAlertApp(
        { dir: mailbox, to: 'ops@example.test', onSent: (id) => sent.push(id) },
        { perWindow: 1500 },
      ),
      { store: new MemorySnapshotStore(), virtualTime: { callsPerWindow: 1000 }, windows: 2 },
    );
    await run.done;
    expect(emlFiles(mailbox)).toEqual(expectedFiles(3000));
    expect(new Set(sent).size).toBe(3000);
    expect(sent).toHaveLength(3000);
  });

  it('files every alert once as an RFC 5322 message with the Message-ID and headers SmtpAlert sends', async () => {
    const mailbox = tempDir();
    const run = await launch(mailboxAlertApp({ dir: mailbox, to: 'ops@example.test' }), {
      store: new MemorySnapshotStore(),
      virtualTime: true,
      windows: 4,
    });
    await run.done;
    expect(emlFiles(mailbox)).toEqual(expectedFiles(12));

    // The same alerts through SmtpAlert to a real server: the same Message-ID, headers and body.
    const smtp = await startSmtpServer();
    try {
      const sent = await launch(
        smtpAlertApp({ url: smtp.url, outbox: tempDir(), to: 'ops@example.test', maxPerSecond: 10_000 }),
        { store: new MemorySnapshotStore(), virtualTime: true, windows: 1 },
      );
      await sent.done;
      const mail = smtp.messages[0]!;
      const filed = await simpleParser(readFileSync(join(mailbox, `${alertId('alerts', alertOf(0))}.eml`)));
      expect(filed.messageId).toBe(alertMessageId('alerts', alertOf(0), 'sluice.invalid'));
      expect(filed.messageId).toBe(mail.messageId);
      expect(filed.subject).toBe(mail.subject);
      expect(filed.text).toBe(mail.text);
      expect(filed.date?.getTime()).toBe(20000 * 86_400_000);
      for (const h of ['x-sluice-key', 'x-sluice-window', 'x-sluice-resource', 'to', 'from']) {
        expect(JSON.stringify(filed.headers.get(h)), h).toBe(JSON.stringify(mail.headers.get(h)));
      }
    } finally {
      await smtp.stop();
    }
  });

  it('a failure after filing an alert, and a relaunch on the same store: each alert filed once, whole', async () => {
    const mailbox = tempDir();
    const storeDir = tempDir();
    let filed = 0;
    let failed = false;
    const props = {
      dir: mailbox,
      onSent: () => {
        if (++filed === 23 && !failed) {
          failed = true;
          throw new Error('injected: crash after filing an alert');
        }
      },
    };
    const store = new LevelSnapshotStore(join(storeDir, 'store'));
    const first = await launch(mailboxAlertApp(props), { store, virtualTime: true, windows: 10 });
    await first.done;
    expect(failed).toBe(true);
    expect(first.stats().restarts).toBe(1);
    expect(emlFiles(mailbox)).toEqual(expectedFiles(30));
    const bytes = readFileSync(join(mailbox, expectedFiles(30)[0]!));

    // Relaunched on the same store it goes on from window 10; the old files stay as they were.
    const relaunched = await launch(mailboxAlertApp(props), {
      store: new LevelSnapshotStore(join(storeDir, 'store')),
      virtualTime: true,
      windows: 14,
    });
    await relaunched.done;
    expect(emlFiles(mailbox)).toEqual(expectedFiles(42));
    expect(readFileSync(join(mailbox, expectedFiles(30)[0]!))).toEqual(bytes);
    expect(filed).toBe(42);
  });
});
