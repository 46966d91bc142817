/**
 * The Redis half of the machine-data case study in a small app of the same shape (readings from a Redis
 * stream → per-key averages per application window → Redis, exactly once; alerts above 70 %), for the
 * Redis kill tests until examples/machine-data/app.ts can be driven the same way. One dimension
 * (device) instead of 64: what these tests check is the Redis in and out, not the dimensions.
 *
 * Environment:
 *   READINGS_STREAM      redis://host:port/db#stream (required)
 *   REDIS_URL            redis://host:port/db where averages go (required)
 *   READINGS_PER_WINDOW  entries per streaming window (default 40)
 *   APP_WINDOW           streaming windows per application window (default 3)
 *   APPLIED_LIST         a list key in REDIS_URL's database: each applied window is pushed after its EXEC
 *   KILL_AFTER_APPLY     window number: SIGKILL this process right after that window's EXEC (before its
 *                        checkpoint), once: KILL_MARKER names the file that remembers it happened
 *   BAD_OUT              directory for the rejected entries (FileSink; default: dropped)
 *   SMTP_URL             smtp://host:port: alerts are mailed there (SmtpAlert; default: dropped), with
 *   ALERT_TO, ALERT_OUTBOX the recipients and the outbox directory (one per store)
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { application, Operator, type OperatorContext } from 'sluice';
import { FileSink, RedisAverageOutput, RedisStreamReadings, SmtpAlert } from 'sluice/actors';
import type { Alert, AverageRecord, Reading } from '../../../actors/machine-data/types.ts';

type Sums = Record<
  string,
  [device: number, day: number, minute: number, cpu: number, ram: number, hdd: number, n: number]
>;

/** Average cpu/ram/hdd per device and minute over an application window; alerts above 70 %. */
class DeviceAverage extends Operator<{ sums: Sums }> {
  readonly out = this.output<AverageRecord>();
  readonly alerts = this.output<Alert>();
  readonly in = this.input<Reading>((r) => {
    const key = `device=${r.device}|day=${r.day}|minute=${r.minute}`;
    const s = (this.state.sums[key] ??= [r.device, r.day, r.minute, 0, 0, 0, 0]);
    s[3] += r.cpu;
    s[4] += r.ram;
    s[5] += r.hdd;
    s[6]++;
  });
  private ctx!: OperatorContext;

  override initialState() {
    return { sums: {} };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
  }

  override endWindow(): void {
    const window = this.ctx.windowId;
    for (const key of Object.keys(this.state.sums).sort()) {
      const [device, day, minute, cpu, ram, hdd, n] = this.state.sums[key]!;
      const avg = { cpu: round(cpu / n), ram: round(ram / n), hdd: round(hdd / n) };
      this.out.emit({ key, fields: { device }, day, minute, window, ...avg, count: n });
      for (const resource of ['cpu', 'ram', 'hdd'] as const) {
        if (avg[resource] > 70) {
          this.alerts.emit({
            key,
            fields: { device },
            day,
            minute,
            window,
            resource,
            usage: avg[resource],
            threshold: 70,
          });
        }
      }
    }
    this.state.sums = {};
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** RedisAverageOutput that records each apply and can die right after one (the crash the tests need). */
class ProbedOutput extends RedisAverageOutput {
  private probe: Redis | undefined;

  protected override async open(): Promise<void> {
    await super.open();
    if (process.env.APPLIED_LIST) {
      this.probe = new Redis(this.props.url, { lazyConnect: true });
      await this.probe.connect();
    }
  }

  protected override async applyWindow(
    window: number,
    records: AverageRecord[],
    epoch: number,
  ): Promise<void> {
    await super.applyWindow(window, records, epoch);
    if (records.length === 0) return;
    if (this.probe) await this.probe.rpush(process.env.APPLIED_LIST!, String(window));
    const marker = process.env.KILL_MARKER;
    if (Number(process.env.KILL_AFTER_APPLY) === window && marker && !existsSync(marker)) {
      writeFileSync(marker, `killed after applying window ${window}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }

  protected override async close(): Promise<void> {
    this.probe?.disconnect();
    await super.close();
  }
}

const stream = process.env.READINGS_STREAM ?? '';
const out = process.env.REDIS_URL ?? '';

export default application('machine-data', (dag) => {
  const readings = dag.add('readings', RedisStreamReadings, {
    url: stream,
    readingsPerWindow: Number(process.env.READINGS_PER_WINDOW ?? 40),
  });
  const average = dag.add('average', DeviceAverage, undefined, {
    applicationWindowCount: Number(process.env.APP_WINDOW ?? 3),
  });
  const redis = dag.add('redis-out', ProbedOutput, { url: out });
  dag.stream('readings', readings.out, average.in).locality('thread');
  dag.stream('averages', average.out, redis.in);
  if (process.env.SMTP_URL) {
    const mail = dag.add('alerts-out', SmtpAlert, {
      url: process.env.SMTP_URL,
      outbox: process.env.ALERT_OUTBOX ?? 'out/alert-outbox',
      to: process.env.ALERT_TO,
      maxPerSecond: 1000,
    });
    dag.stream('alerts', average.alerts, mail.in);
  }
  if (process.env.BAD_OUT) {
    const bad = dag.add('bad-readings', FileSink, { dir: process.env.BAD_OUT });
    dag.stream('bad', readings.errors, bad.in);
  }
});
