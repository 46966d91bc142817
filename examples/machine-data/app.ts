/**
 * The machine-data case study (seed 001) end to end:
 *
 *   readings ──generate_dimension (container)──▶ dimensions ──prereq_calculation (thread)──▶ prereq
 *     (DeviceReadings ×P, or RedisStreamReadings)  (GenerateDimensions ×P)                (PrereqAverage ×P)
 *   prereq ──inter_avg──▶ [SumPartials unifiers, ≤ 8 inputs each] ──▶ average (Average)
 *   average ──avg_output──▶ averages (FileSink, or RedisAverageOutput when REDIS_URL is set)
 *   average ──avg_alert_mail──▶ alerts (MailboxAlert .eml files, or SmtpAlert when SMTP_URL is set)
 *   dimensions.errors ──dead_letters──▶ errors (FileSink): readings with missing or out-of-range fields
 *
 * Application windows of 10 streaming windows of 1 s (APP_WINDOW, WINDOW_MS). Settings, by environment
 * or as flags after `--`: config.ts and examples/machine-data/README.md. Run it with `npx sluice run examples/machine-data/app.ts` or, with a
 * progress line of readings, averages and alerts, `npm start` (examples/machine-data/start.ts).
 */
import { join } from 'node:path';
import { application, applicationArgs } from 'sluice';
import {
  type Alert,
  Average,
  type AverageRecord,
  DeviceReadings,
  FileSink,
  GenerateDimensions,
  MailboxAlert,
  PrereqAverage,
  RedisAverageOutput,
  type RedisRetryEvent,
  RedisStreamReadings,
  SmtpAlert,
  SumPartials,
  stderrRetryListener,
} from 'sluice/actors';
import { applyFlags, machineDataConfig } from './config.ts';

// Flags after `sluice run examples/machine-data/app.ts … --` override the environment, and are written
// into it: a worker-thread container loads this module with no flags and a copy of the environment.
export const config = machineDataConfig(applyFlags(applicationArgs()));

/** What the outputs' retry callbacks saw (the progress line reports an outage). */
export const health = {
  redisRetrying: false,
  redisWaiting: false,
  smtpRetrying: false,
  retries: 0,
  /** Alerts the SMTP server acknowledged in this process (the others are still queued in the outbox). */
  alertsSent: 0,
};

function redisRetry(e: RedisRetryEvent): void {
  health.redisRetrying = e.type === 'retrying';
  health.redisWaiting = e.type === 'waiting';
  if (health.redisRetrying) health.retries++;
  stderrRetryListener(e); // and the default's line when an outage starts and ends (under `sluice run` too)
}

function smtpRetry(): void {
  health.smtpRetrying = true;
  health.retries++;
}

export default application(
  'machine-data',
  (dag) => {
    const c = config;
    const dimensions = dag.add(
      'dimensions',
      GenerateDimensions,
      { valueCap: c.valueCap },
      c.readingsStream ? { partitions: c.partitions } : {},
    );
    if (c.readingsStream) {
      // One reader per stream: it deals the readings round robin to the dimension partitions.
      const readings = dag.add('readings', RedisStreamReadings, {
        url: c.readingsStream,
        readingsPerWindow: c.readingsPerWindow,
        countWindows: c.streamWindows === 'count',
        onRetry: redisRetry,
      });
      dag.stream('generate_dimension', readings.out, dimensions.in).locality('container').roundRobin();
      const bad = dag.add('bad_entries', FileSink, { dir: join(c.out, 'bad-entries') });
      dag.stream('bad_stream_entries', readings.errors, bad.in);
    } else {
      const readings = dag.add(
        'readings',
        DeviceReadings,
        {
          seed: c.seed,
          readingsPerWindow: c.readingsPerWindow,
          fixedDeviceConfiguration: true,
          hotDevices: c.hotDevices,
          ...(c.timeOriginMs !== undefined ? { timeOriginMs: c.timeOriginMs } : {}),
          // Each partition emits the readings of its devices: the keys naming a device are summed in one
          // partition only, so the SumPartials unifiers add up partials of the other keys alone.
          partitionBy: 'device',
        },
        { partitions: c.partitions },
      );
      // GenerateDimensions and PrereqAverage get the source's partitions (the case study's layout).
      dag.stream('generate_dimension', readings.out, dimensions.in).locality('container').parallel();
    }
    const app = { applicationWindowCount: c.applicationWindowCount };
    const prereq = dag.add('prereq', PrereqAverage, undefined, {
      ...app,
      unifier: SumPartials,
      unifierLimit: 8,
    });
    const average = dag.add(
      'average',
      Average,
      { alertThreshold: c.alertThreshold },
      { ...app, partitions: c.averagePartitions },
    );
    dag.stream('prereq_calculation', dimensions.out, prereq.in).locality('thread');
    // Keyed by dimension key, so each Average partition owns whole keys (and their application windows).
    dag.stream('inter_avg', prereq.out, average.in).keyBy((p) => p.key);

    const averages = c.redisUrl
      ? dag.add(
          'averages',
          RedisAverageOutput,
          {
            url: c.redisUrl,
            onRetry: redisRetry,
          },
          app,
        )
      : dag.add('averages', FileSink<AverageRecord>, { dir: join(c.out, 'averages') }, app);
    // The outputs follow Average's partitions (each writes under its own p<partition>, with its own fence).
    dag.stream('avg_output', average.out, averages.in).parallel();

    const mail = { to: c.alertTo, messageIdDomain: 'machine-data.sluice.invalid' };
    const alerts = c.smtpUrl
      ? dag.add(
          'alerts',
          SmtpAlert,
          {
            ...mail,
            url: c.smtpUrl,
            outbox: join(c.out, 'outbox'),
            onRetry: smtpRetry,
            onSent: () => {
              health.smtpRetrying = false;
              health.alertsSent++;
            },
          },
          app,
        )
      : dag.add('alerts', MailboxAlert, { ...mail, dir: join(c.out, 'mailbox') }, app);
    dag.stream('avg_alert_mail', average.alerts, alerts.in).parallel();

    const errors = dag.add('errors', FileSink, { dir: join(c.out, 'errors') }, app);
    dag.stream('dead_letters', dimensions.errors, errors.in);
  },
  { streamingWindowMs: config.streamingWindowMs },
);

export type { Alert, AverageRecord };
