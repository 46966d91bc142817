/**
 * `npm start`: runs the machine-data application in this process and prints, every second, readings/s in,
 * records/s out (averages and alerts), the last finished and committed windows and the alerts so far.
 *
 *   node --conditions=sluice-source --import tsx examples/machine-data/start.ts [--demo] [--fresh] [WINDOWS] [STORE] [--SETTING VALUE…]
 *   npm start -- --redis-url redis://127.0.0.1:6379/1 --partitions 4
 *
 * WINDOWS (default: run until Ctrl-C) stops cleanly once that window is done and committed. STORE is the
 * LevelDB snapshot store (default .sluice/machine-data): run again on it and the application continues.
 * `--demo` (what `npm start` runs): 30 windows of 500 ms in application windows of 5, unless WINDOW_MS
 * and APP_WINDOW (or their flags) say otherwise, so that three rounds of averages and alerts show within
 * about 15 s. The settings' flags (config.ts; `--help` lists them) override their environment variables.
 * A bad flag or value: one `machine-data: …` line on stderr and exit code 2.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { launch, type RunStats } from 'sluice';
import { addSettingOptions, ConfigError, settingsIntoEnv } from './config.ts';

const EXIT_USAGE = 2;
/** The output folder when MACHINE_DATA_OUT does not say (config.ts). */
const DEFAULT_OUT = 'out/machine-data';

function windowCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected an integer ≥ 1.');
  }
  return n;
}

const command = addSettingOptions(
  new Command('start.ts')
    .description('Run the machine-data case study with a progress line a second.')
    .argument('[windows]', 'stop once this window is done and committed (default: until Ctrl-C)', windowCount)
    .argument('[store]', 'the snapshot store directory', '.sluice/machine-data')
    .option('--demo', '30 windows of 500 ms in application windows of 5 (what npm start runs)')
    .option('--fresh', `start over: delete STORE and ${DEFAULT_OUT} first (what npm start runs)`),
)
  .exitOverride()
  .configureOutput({
    outputError: (text, write) =>
      write(
        `machine-data: ${text
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()}\n`,
      ),
  });
try {
  command.parse(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
  throw e;
}
const opts = command.opts<{ demo?: boolean; fresh?: boolean }>();
// Flags over the environment, then the demo's defaults under both.
settingsIntoEnv(opts);
if (opts.demo) {
  process.env.WINDOW_MS ||= '500';
  process.env.APP_WINDOW ||= '5';
}
const [windowsArg, store] = command.processedArgs as [number | undefined, string];
// After parsing, so that `--help` or a bad flag deletes nothing; only the default output folder, never
// one a setting names.
if (opts.fresh) for (const d of [store, DEFAULT_OUT]) rmSync(d, { recursive: true, force: true });
const windows = windowsArg ?? (opts.demo ? 30 : undefined);
// The application reads its settings when it loads: after the flags and the demo's defaults are in place.
const loaded = await import('./app.ts').catch((e: unknown) => {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(EXIT_USAGE);
});
const { default: app, config, health } = loaded;

const run = await launch(app, { store, windows });
// Warnings (an output that already holds this run's windows, a damaged store recovered): said at once.
run.on('status', (e) => {
  if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
});
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
    : health.redisWaiting
      ? ' · Redis not answering, waiting'
      : health.smtpRetrying
        ? ' · SMTP down, retrying'
        : '';
  // Mailed alerts leave at the SMTP server's pace (SmtpAlert's rate limit): say how many have gone.
  const sent = config.smtpUrl ? ` (${health.alertsSent.toLocaleString('en-US')} sent)` : '';
  process.stderr.write(
    `window ${s.window} · in ${rate(now.readings, last.readings)} readings/s · out ${rate(now.out, last.out)} records/s · ` +
      `committed ${s.committed} · alerts ${sumOf(s, 'alerts').toLocaleString('en-US')}${sent} · dead letters ${sumOf(s, 'errors') + sumOf(s, 'bad_entries')}` +
      `${s.restarts > 0 ? ` · restarts ${s.restarts}` : ''}${outage}` +
      // Ending the open window can take a while (an outbox of alerts still to send, Redis to write).
      `${stopping ? ' · stopping: finishing the open window' : ''}\n`,
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
} catch (e) {
  // As `sluice run` says it: one line (the code, the operator, the window, the cause), not a raw stack.
  const err = e as Error & { code?: string };
  process.stderr.write(`sluice: run failed${err.code ? ` (${err.code})` : ''}: ${err.message}\n`);
  // A configuration the outputs refused (a Redis database out of range) is bad input, as for sluice run.
  process.exitCode = /_CONFIG$/.test(err.code ?? '') ? EXIT_USAGE : 1;
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
