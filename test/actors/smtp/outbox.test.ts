import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertOutbox } from '../../../actors/smtp/outbox.ts';
import { alertOf } from './alert-app.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outboxDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-outbox-'));
  dirs.push(d);
  return d;
}

const alerts = (from: number, n = 3) => Array.from({ length: n }, (_, i) => alertOf(from + i));

/** Sends (acknowledges) the next `n` alerts; returns their numbers' keys. */
function ackNext(outbox: AlertOutbox, n: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const q = outbox.next()!;
    keys.push(q.alert.key);
    outbox.acknowledge(q);
  }
  return keys;
}

describe('AlertOutbox', () => {
  it('acknowledgements survive a crash: a new instance resumes after the last acknowledged alert', () => {
    const dir = outboxDir();
    const first = new AlertOutbox(dir, 'mail');
    expect(first.claim(1)).toBe(0);
    first.queueWindow(6, alerts(15), 1);
    first.queueWindow(7, alerts(18), 1);
    expect(ackNext(first, 2)).toEqual([alertOf(15).key, alertOf(16).key]);

    const second = new AlertOutbox(dir, 'mail'); // the process died here: no state carried over
    expect(second.claim(2)).toBe(7);
    expect(second.size).toBe(4);
    expect(second.next()).toMatchObject({ window: 6, index: 2, alert: alertOf(17) });
    // A replay of window 7 (at or below the last applied) is skipped by the output; queuing it again
    // (a crash before `applied` moved) adds nothing.
    second.queueWindow(7, alerts(18), 2);
    expect(second.size).toBe(4);
    expect(ackNext(second, 4)).toEqual([17, 18, 19, 20].map((n) => alertOf(n).key));
    expect(second.next()).toBeUndefined();
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
    expect(readdirSync(join(dir, 'acked'))).toEqual([]);
  });

  it('a window linked by a crashed apply is not sent before its replay queues it, then once', () => {
    const dir = outboxDir();
    const outbox = new AlertOutbox(dir, 'mail');
    outbox.claim(1);
    outbox.queueWindow(1, alerts(0), 1);
    // The crash: window 2's file is in place, `applied` still says 1.
    writeFileSync(join(dir, 'queue', '000000000002.json'), JSON.stringify(alerts(3)));
    const again = new AlertOutbox(dir, 'mail');
    expect(again.claim(2)).toBe(1);
    expect(again.size).toBe(3);
    again.queueWindow(2, alerts(3), 2);
    expect(again.size).toBe(6);
    expect(ackNext(again, 6)).toEqual([0, 1, 2, 3, 4, 5].map((n) => alertOf(n).key));
  });

  it('a replaced instance may not queue: a newer epoch claimed the outbox', () => {
    const dir = outboxDir();
    const old = new AlertOutbox(dir, 'mail');
    old.claim(1);
    new AlertOutbox(dir, 'mail').claim(2);
    expect(() => old.queueWindow(1, alerts(0), 1)).toThrow(
      expect.objectContaining({ code: 'SLUICE_FENCED' }),
    );
    expect(readdirSync(join(dir, 'queue'))).toEqual([]);
  });
});
