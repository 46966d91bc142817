/**
 * `npm start`: runs the machine-data application in this process and prints, every second, readings/s in,
 * records/s out (averages and alerts), the last finished and committed windows and the alerts so far.
 *
 *   node --conditions=sluice-source --import tsx examples/machine-data/start.ts [--demo] [WINDOWS] [STORE]
 *
 * WINDOWS (default: run until Ctrl-C) stops cleanly once that window is done and committed. STORE is the
 * LevelDB snapshot store (default .sluice/machine-data): run again on it and the application continues.
 * `--demo` (what `npm start` runs): 30 windows of 500 ms in application windows of 5, unless WINDOW_MS
 * and APP_WINDOW say otherwise, so that three rounds of averages and alerts show within about 15 s.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, type RunStats } from 'sluice';

const args = process.argv.slice(2);
const demo = args[0] === '--demo';
if (demo) {
  args.shift();
  process.env.WINDOW_MS ||= '500';
  process.env.APP_WINDOW ||= '5';
}
const windows = args[0] ? Number(args[0]) : demo ? 30 : undefined;
const store = args[1] ?? '.sluice/machine-data';
// The application reads its settings when it loads: after the demo's defaults are in place.
const { default: app, config, health } = await import('./app.ts');

const run = await launch(app, { store, windows });
const where = config.smtpUrl ?? join(config.out, 'mailbox');
const source = config.readingsStream ?? `generator, ${config.partitions} partitions`;
const averagesTo = config.redisUrl ?? join(config.out, 'averages');
process.stderr.write(
  `machine-data: ${source} → 64 dimensions → averages per ${config.applicationWindowCount} × ${config.streamingWindowMs} ms → ${averagesTo}; alerts above ${config.alertThreshold} % → ${where}\n`,
);

const sumOf = (s: RunStats, operator: string) =>
  s.operators.filter((o) => o.operator === operator).reduce((n, o) => n + o.tuples, 0);
let last = { at: performance.now(), readings: 0, out: 0 };
const timer = setInterval(() => {
  const s = run.stats();
  const now = {
    at: performance.now(),
    readings: sumOf(s, 'readings'),
    out: sumOf(s, 'averages') + sumOf(s, 'alerts'),
  };
  const seconds = (now.at - last.at) / 1000;
  const rate = (a: number, b: number) => Math.round((a - b) / seconds).toLocaleString('en-US');
  const outage = health.redisRetrying
    ? ' · Redis down, retrying'
    : health.smtpRetrying
      ? ' · SMTP down, retrying'
      : '';
  process.stderr.write(
    `window ${s.window} · in ${rate(now.readings, last.readings)} readings/s · out ${rate(now.out, last.out)} records/s · ` +
      `committed ${s.committed} · alerts ${sumOf(s, 'alerts').toLocaleString('en-US')} · dead letters ${sumOf(s, 'errors')}` +
      `${s.restarts > 0 ? ` · restarts ${s.restarts}` : ''}${outage}\n`,
  );
  last = now;
}, 1000);

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  process.stderr.write('stopping after the open window (Ctrl-C again to exit at once)\n');
  void run.stop();
});

try {
  await run.done;
} finally {
  clearInterval(timer);
}
const s = run.stats();
process.stderr.write(`stopped after window ${s.window}, committed ${s.committed}\n`);
if (!config.smtpUrl) showAlerts(join(config.out, 'mailbox'));

/** How many alert messages the mailbox holds, and the subject of the first. */
function showAlerts(dir: string): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    // No mailbox folder: no alert was written.
  }
  // A long Subject header is folded onto continuation lines (starting with white space).
  const text = files[0] ? readFileSync(join(dir, files[0]), 'utf8').replace(/\r?\n[ \t]+/g, ' ') : '';
  const first = /^Subject: (.*)$/m.exec(text)?.[1];
  process.stderr.write(`${files.length} alert messages in ${dir}/${first ? `, e.g. "${first}"` : ''}\n`);
}
