/**
 * The machine-data application's settings, from the environment (unset: the embedded defaults, no Redis
 * or SMTP server needed). Read once, when the application module loads.
 */

export interface MachineDataConfig {
  /** `redis://host:port/db#stream`: readings come from this Redis stream. Unset: the built-in generator. */
  readingsStream?: string;
  /** `redis://host:port/db`: averages go there (one hash per key). Unset: window files under `out`. */
  redisUrl?: string;
  /** `smtp://host:port`: alerts are mailed there. Unset: `.eml` files in the mailbox folder under `out`. */
  smtpUrl?: string;
  /** Alert recipients (`ops@example.com, Name <b@example.com>`). */
  alertTo?: string;
  /** Where the embedded outputs go: `averages/`, `mailbox/`, `errors/`; and SmtpAlert's `outbox/`. */
  out: string;
  /** Partitions of the generator, GenerateDimensions and PrereqAverage (a Redis stream is read by one). */
  partitions: number;
  /** Readings per streaming window, per partition (generator) or in all (Redis stream). */
  readingsPerWindow: number;
  /** Streaming windows per application window (the case study: 10). */
  applicationWindowCount: number;
  /** Streaming window length, ms (the case study: 1000). */
  streamingWindowMs: number;
  alertThreshold: number;
  valueCap: number;
  /** Devices of the generator that run hot (their cpu averages go above the alert threshold). */
  hotDevices: number[];
  seed: number;
}

export class ConfigError extends Error {
  readonly code = 'SLUICE_EXAMPLE_CONFIG';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`${name}=${text}: expected an integer ≥ ${min}`);
  return v;
}

function set(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function machineDataConfig(env: NodeJS.ProcessEnv = process.env): MachineDataConfig {
  const hot = set(env, 'HOT_DEVICES') ?? '7';
  return {
    readingsStream: set(env, 'READINGS_STREAM'),
    redisUrl: set(env, 'REDIS_URL'),
    smtpUrl: set(env, 'SMTP_URL'),
    alertTo: set(env, 'ALERT_TO'),
    out: set(env, 'MACHINE_DATA_OUT') ?? 'out/machine-data',
    partitions: int(env, 'PARTITIONS', 2),
    readingsPerWindow: int(env, 'READINGS_PER_WINDOW', 5000),
    applicationWindowCount: int(env, 'APP_WINDOW', 10),
    streamingWindowMs: int(env, 'WINDOW_MS', 1000),
    alertThreshold: int(env, 'ALERT_THRESHOLD', 70, 0),
    valueCap: int(env, 'VALUE_CAP', 90, 0),
    hotDevices: hot === 'none' ? [] : hot.split(',').map((d) => Number(d.trim())),
    seed: int(env, 'SEED', 1, 0),
  };
}
