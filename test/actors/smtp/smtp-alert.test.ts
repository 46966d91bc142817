import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertMessageId } from '../../../actors/smtp/alert-message.ts';
import type { AlertClock } from '../../../actors/smtp/rate-limiter.ts';
import type { SmtpAlertProps } from '../../../actors/smtp/smtp-alert.ts';
import {
  LevelSnapshotStore,
  launch,
  MemorySnapshotStore,
  OperatorFailure,
  type SnapshotStore,
} from '../../../src/index.ts';
import { exited, repoRoot, sluiceRun } from '../../recovery/kill-loop.ts';
import { startSmtpServer, type TestSmtpServer } from '../../setup/smtp-server.ts';
import { alertOf, smtpAlertApp } from './alert-app.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function smtpServer(port?: number): Promise<TestSmtpServer> {
  const s = await startSmtpServer({ port });
  cleanup.push(() => s.stop());
  return s;
}

/** What the operators write to stderr from now on (the outage lines), as lines mentioning SMTP or the outbox. */
function stderrLines(): () => string[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  cleanup.push(() => spy.mockRestore());
  return () => lines.filter((l) => /SMTP|outbox/.test(l));
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-smtp-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function ids(n: number, app = 'alerts'): string[] {
  return Array.from({ length: n }, (_, i) => alertMessageId(app, alertOf(i), 'sluice.invalid'));
}

/** Runs the alert app to window `windows` on virtual time (3 alerts a window). */
async function runAlerts(
  props: SmtpAlertProps,
  windows: number,
  store: SnapshotStore = new MemorySnapshotStore(),
) {
  const run = await launch(smtpAlertApp({ maxPerSecond: 10_000, ...props }), {
    store,
    virtualTime: true,
    windows,
  });
  await run.done;
  return run;
}

describe('SmtpAlert', () => {
  it('delivers every alert once to a real SMTP server, with its deterministic Message-ID and headers', async () => {
    const smtp = await smtpServer();
    await runAlerts({ url: smtp.url, outbox: tempDir(), to: 'ops@example.test' }, 6);
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(18));
    expect(ids(1)[0]).toMatch(/^<alerts\.w1\.cpu\.[0-9a-f]{24}@sluice\.invalid>$/);
    const first = smtp.messages[0]!;
    expect(first.rcptTo).toEqual(['ops@example.test']);
    expect(first.subject).toBe('[alerts] cpu 70.5% above 70%: device=0|day=20000|minute=0');
    expect(first.headers.get('x-sluice-key')).toBe('device=0|day=20000|minute=0');
    expect(first.headers.get('x-sluice-window')).toBe('1');
    expect(first.text).toContain('Average cpu usage 70.5% is above the threshold of 70%.');
  });

  it('an operator failure upstream: the recovery replays windows the outbox has, and none is sent twice', async () => {
    const smtp = await smtpServer();
    // Alert 23 is in window 8: the output is restored at the checkpoint of 5, windows 6 and 7 (queued,
    // perhaps sent already) come again and are skipped, window 8 is queued once.
    const failOnce = { n: 23, failed: false };
    const run = await launch(
      smtpAlertApp({ url: smtp.url, outbox: tempDir(), maxPerSecond: 10_000, drainMs: 20_000 }, { failOnce }),
      { store: new MemorySnapshotStore(), virtualTime: true, windows: 12 },
    );
    await run.done;
    expect(failOnce.failed).toBe(true);
    expect(run.stats().restarts).toBe(1);
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(36));
  });

  it('killed with SIGKILL after an acknowledgement and relaunched on the same store: no alert is sent twice', async () => {
    const smtp = await smtpServer();
    const work = tempDir();
    const env = {
      SMTP_URL: smtp.url,
      OUTBOX: join(work, 'outbox'),
      KILL_MARKER: join(work, 'killed'),
      // Killed once the 23rd acknowledgement is durable (the sender runs behind the windows, so the
      // pipeline is then somewhere between window 8 and its final drain).
      KILL_AFTER: '23',
    };
    const app = join(repoRoot, 'test', 'actors', 'smtp', 'apps', 'smtp-alert-app.ts');
    const args = [app, '--window-ms', '20', '--windows', '12', '--store', join(work, 'store')];
    const killed = await exited(sluiceRun(args, env));
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(existsSync(env.KILL_MARKER)).toBe(true);
    expect(smtp.messages).toHaveLength(23);

    const relaunched = await exited(sluiceRun(args, env));
    expect(relaunched.code, relaunched.stderr).toBe(0);
    const duplicates = [...smtp.countByMessageId()].filter(([, n]) => n > 1);
    expect(duplicates).toEqual([]);
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(36));
  }, 60_000);

  it('SIGKILL between the server accepting an alert and the outbox recording it: that alert alone comes again, same Message-ID', async () => {
    // The one window "once" cannot close over SMTP (no idempotent submission): from the server's decision
    // to accept (its 250) until the acknowledgement file exists in the outbox. The kill lands there on
    // purpose: after the 5th message is recorded by the server, before its 250 is sent.
    const work = tempDir();
    const args = [join(repoRoot, 'test', 'actors', 'smtp', 'apps', 'smtp-alert-app.ts')];
    args.push('--window-ms', '20', '--windows', '12', '--store', join(work, 'store'));
    let child: ReturnType<typeof sluiceRun> | undefined;
    let killedAt: string | undefined;
    const smtp = await startSmtpServer({
      beforeReply: async (mail, accepted) => {
        if (accepted !== 5 || !child) return;
        killedAt = mail.messageId;
        const gone = exited(child);
        child.kill('SIGKILL');
        await gone;
      },
    });
    cleanup.push(() => smtp.stop());
    const env = { SMTP_URL: smtp.url, OUTBOX: join(work, 'outbox') };
    child = sluiceRun(args, env);
    const killed = await exited(child);
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(killedAt).toBe(ids(5)[4]);

    child = undefined;
    const relaunched = await exited(sluiceRun(args, env));
    expect(relaunched.code, relaunched.stderr).toBe(0);
    const counts = smtp.countByMessageId();
    // Every alert arrived; the one in flight at the kill twice, under the same Message-ID (a receiver can
    // drop the copy); nothing else twice.
    expect([...counts.keys()].sort()).toEqual(ids(36).sort());
    expect([...counts].filter(([, n]) => n > 1)).toEqual([[killedAt, 2]]);
    expect(smtp.messages.map((m) => m.messageId)).toEqual([...ids(5), ...ids(36).slice(4)]);
  }, 60_000);

  it('refuses header injection: CR/LF in a key never starts a header, a recipient list with one is refused', async () => {
    const smtp = await smtpServer();
    const evilKey = 'device=1\r\nBcc: evil@example.test\r\nX-Injected: yes';
    const { SmtpAlert } = await import('../../../actors/smtp/smtp-alert.ts');
    const { application } = await import('../../../src/index.ts');
    const { SequenceSource, MapOperator } = await import('../../../actors/index.ts');
    const app = application('alerts', (dag) => {
      const src = dag.add('src', SequenceSource, { tuplesPerWindow: 1 });
      const alerts = dag.add('alerts', MapOperator<number, ReturnType<typeof alertOf>>, {
        fn: (n) => ({ ...alertOf(n), key: evilKey }),
      });
      // A trailing CR/LF (an env file) is stripped and the address kept.
      const mail = dag.add('mail', SmtpAlert, {
        url: smtp.url,
        outbox: tempDir(),
        to: 'ops@example.test\r\n',
      });
      dag.stream('numbers', src.out, alerts.in);
      dag.stream('alerts', alerts.out, mail.in);
    });
    const run = await launch(app, { store: new MemorySnapshotStore(), virtualTime: true, windows: 1 });
    await run.done;
    expect(smtp.messages).toHaveLength(1);
    const m = smtp.messages[0]!;
    expect(m.rcptTo).toEqual(['ops@example.test']);
    const headerNames = m.rawHeaders.split(/\r?\n/).map((l) => l.split(':')[0]!.toLowerCase());
    expect(headerNames).not.toContain('bcc');
    expect(headerNames).not.toContain('x-injected');
    expect(m.headers.get('x-sluice-key')).toBe('device=1 Bcc: evil@example.test X-Injected: yes');

    // Stripped, `ops@x\r\nBcc: evil@y` would read as a group holding evil@y only: refused outright.
    expect(
      () => new SmtpAlert({ url: smtp.url, outbox: 'x', to: 'ops@example.test\r\nBcc: evil@example.test' }),
    ).toThrow(expect.objectContaining({ code: 'SLUICE_ALERT_CONFIG' }));
    expect(() => new SmtpAlert({ url: smtp.url, outbox: 'x', from: 'a@x.test\nX-Evil: 1' })).toThrow(
      expect.objectContaining({ code: 'SLUICE_ALERT_CONFIG' }),
    );
  });

  it('rate limit: never more than maxPerSecond sends in any second of its clock, and nothing dropped', async () => {
    const smtp = await smtpServer();
    let now = 0;
    const clock: AlertClock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    const times: number[] = [];
    await runAlerts(
      { url: smtp.url, outbox: tempDir(), maxPerSecond: 4, clock, onSent: () => times.push(now) },
      5,
    );
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(15));
    // Any 5 consecutive sends span at least a second; the limiter did make them wait.
    for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4]! - times[i]!).toBeGreaterThanOrEqual(1000);
    expect(times.at(-1)).toBeGreaterThanOrEqual(3000);
  });

  it('SMTP server down, then refusing with 451, then up: the windows go on, every alert delivered once', async () => {
    const probe = await startSmtpServer();
    const port = probe.port;
    await probe.stop(); // down: connections are refused
    let retries = 0;
    let smtp: TestSmtpServer | undefined;
    const printed = stderrLines();
    const run = await launch(
      smtpAlertApp({
        url: `smtp://127.0.0.1:${port}`,
        outbox: tempDir(),
        maxPerSecond: 10_000,
        retry: { initialMs: 10, maxMs: 50 },
        drainMs: 20_000,
        onRetry: () => {
          // After 3 refused connections, the server comes up and refuses 2 messages with 451.
          if (++retries === 3) {
            void smtpServer(port).then((s) => {
              s.refuseNext(2);
              smtp = s;
            });
          }
        },
      }),
      { store: new MemorySnapshotStore(), virtualTime: true, windows: 4 },
    );
    await run.done;
    expect(retries).toBeGreaterThanOrEqual(5);
    expect(smtp!.messages.map((m) => m.messageId)).toEqual(ids(12));
    expect(run.stats().restarts).toBe(0);
    // One line when the outage starts, one when it ends, whatever onRetry does.
    expect(printed()).toEqual([
      expect.stringMatching(
        /^sluice: mail: SMTP send failed \(.+\); retrying with backoff, \d+ alerts queued in the outbox\n$/,
      ),
      expect.stringMatching(
        /^sluice: mail: SMTP is back: sent <.+> after \d+ failed attempts; \d+ more alerts queued\n$/,
      ),
    ]);
  });

  it('what a run could not send stays in the outbox, and the next run on it sends it, once', async () => {
    const probe = await startSmtpServer();
    const port = probe.port;
    await probe.stop();
    const outbox = tempDir();
    const storeDir = join(tempDir(), 'store');
    const props = {
      url: `smtp://127.0.0.1:${port}`,
      outbox,
      retry: { initialMs: 10, maxMs: 20 },
    };
    // A graceful stop drains for 50 ms only: the server is down, the 12 alerts stay queued.
    const printed = stderrLines();
    const down = await runAlerts({ ...props, drainMs: 50 }, 4, new LevelSnapshotStore(storeDir));
    expect(down.stats().window).toBe(4);
    expect(printed().at(-1)).toBe(
      `sluice: mail: 12 alerts not sent yet stay in the outbox ${outbox}; the next run sends them\n`,
    );

    const smtp = await smtpServer(port);
    await runAlerts(props, 6, new LevelSnapshotStore(storeDir));
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(18));
  });

  it('a graceful stop sends the whole queue, however long the rate limit makes that take', async () => {
    const smtp = await smtpServer();
    // 24 alerts queued at once (virtual time), 10 a second: ~2.3 s of sending against a 300 ms drainMs,
    // which bounds only the time with attempts failing (a stop used to give up after drainMs in all).
    await runAlerts({ url: smtp.url, outbox: tempDir(), maxPerSecond: 10, drainMs: 300 }, 8);
    expect(smtp.messages.map((m) => m.messageId)).toEqual(ids(24));
  });

  it('a 5xx answer fails the run with SmtpRejectedError, without retrying', async () => {
    const smtp = await smtpServer();
    smtp.refuseNext(1, 550);
    let retries = 0;
    const run = await launch(smtpAlertApp({ url: smtp.url, outbox: tempDir(), onRetry: () => retries++ }), {
      store: new MemorySnapshotStore(),
      // The real clock and no window bound: windows keep coming until the refusal fails the run. (The
      // sender is not in the windows' path: a bound could be reached first on a fast machine, and virtual
      // time leaves the sender's socket too little of the event loop.)
      streamingWindowMs: 5,
    });
    const failure = await run.done.then(
      () => run.stats(),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(OperatorFailure);
    expect((failure as OperatorFailure).cause).toMatchObject({
      code: 'SLUICE_SMTP_REJECTED',
      responseCode: 550,
    });
    expect(retries).toBe(0);
    expect(smtp.messages).toHaveLength(0);
  });
});
