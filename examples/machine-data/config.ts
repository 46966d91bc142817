/**
 * The machine-data application's settings: from the environment, or the same as flags (a flag overrides
 * its variable); unset, the embedded defaults (no Redis or SMTP server needed). Read once, when the
 * application module loads.
 *
 *     READINGS_STREAM=redis://127.0.0.1:6379/0#readings npx sluice run examples/machine-data/app.ts
 *     npx sluice run examples/machine-data/app.ts -- --readings-stream redis://127.0.0.1:6379/0#readings
 *     npm start -- --redis-url redis://127.0.0.1:6379/1 --partitions 4
 *
 * Flags are parsed by commander (as the sluice command's are), then written into the environment
 * variables of the same settings: the one place the application reads. So the worker-thread containers
 * (`--containers`), which load the module again with a copy of the environment and no flags, get the
 * same settings as the main thread, and the same physical plan.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';

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
  /**
   * Partitions of Average and its outputs (the partial sums are keyed by dimension key, one SumPartials
   * unifier tree per Average partition): the end of each application window is split among them.
   */
  averagePartitions: number;
  /** Readings per streaming window, per partition (generator) or in all (Redis stream). */
  readingsPerWindow: number;
  /**
   * Redis stream: `count` (each window waits until it holds `readingsPerWindow` entries, so copies on one
   * stream agree at any producer rate) or `time` (a window takes what arrived while it was open).
   */
  streamWindows: 'count' | 'time';
  /** Streaming windows per application window (the case study: 10). */
  applicationWindowCount: number;
  /** Streaming window length, ms (the case study: 1000). */
  streamingWindowMs: number;
  alertThreshold: number;
  valueCap: number;
  /** Devices of the generator that run hot (their cpu averages go above the alert threshold). */
  hotDevices: number[];
  seed: number;
  /**
   * Generator: window w's readings are stamped `timeOriginMs + (w − 1) · streamingWindowMs` (so two runs,
   * e.g. one with failures and an undisturbed one, label the same minutes). Unset: each window's own start.
   */
  timeOriginMs?: number;
}

/** A bad setting (flag or variable); its message is one line naming it, the value and what it needs. */
export class ConfigError extends Error {
  readonly code = 'SLUICE_EXAMPLE_CONFIG';
}

/** One setting: its variable, its flag, and what a value must be (throws InvalidArgumentError). */
interface Setting {
  env: string;
  flag: string;
  help: string;
  check: (text: string) => void;
}

const anything = () => {};
const integer = (min: number) => (text: string) => {
  const v = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  }
};
const url = (schemes: string[], example: string) => (text: string) => {
  let scheme = '';
  try {
    scheme = new URL(text).protocol.slice(0, -1);
  } catch {
    // not a URL: refused below
  }
  if (!schemes.includes(scheme)) throw new InvalidArgumentError(`expected a URL like ${example}`);
};
/** Epoch milliseconds, or an ISO 8601 date and time (`2026-12-01T00:00:00Z`). */
function parseTime(text: string): number {
  const t = /^\s*\d+\s*$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new InvalidArgumentError('expected epoch milliseconds or an ISO date like 2026-12-01T00:00:00Z');
  }
  return t;
}

const devices = (text: string) => {
  if (text !== 'none' && !/^\s*\d+\s*(,\s*\d+\s*)*$/.test(text)) {
    throw new InvalidArgumentError('expected device numbers separated by commas, or none');
  }
};

/** Every setting, in the order `--help` and the README list them. */
export const SETTINGS: readonly Setting[] = [
  {
    env: 'READINGS_STREAM',
    flag: '--readings-stream <url>',
    help: 'read the readings from this Redis stream, redis://HOST:PORT/DB#STREAM (default: the built-in generator)',
    check: (text) => {
      url(['redis', 'rediss'], 'redis://127.0.0.1:6379/0#readings')(text);
      if (!/#./.test(text))
        throw new InvalidArgumentError(
          'expected the stream after #, as in redis://127.0.0.1:6379/0#readings',
        );
    },
  },
  {
    env: 'REDIS_URL',
    flag: '--redis-url <url>',
    help: 'write the averages to this Redis database, redis://HOST:PORT/DB (default: files under --out)',
    check: url(['redis', 'rediss'], 'redis://127.0.0.1:6379/1'),
  },
  {
    env: 'SMTP_URL',
    flag: '--smtp-url <url>',
    help: 'mail the alerts through this SMTP server, smtp://HOST:PORT (default: .eml files under --out)',
    check: url(['smtp', 'smtps'], 'smtp://127.0.0.1:2525'),
  },
  {
    env: 'ALERT_TO',
    flag: '--alert-to <addresses>',
    help: 'the alerts’ recipients (default: alerts@localhost)',
    check: anything,
  },
  {
    env: 'MACHINE_DATA_OUT',
    flag: '--out <dir>',
    help: 'where the embedded outputs and the outbox go (default: out/machine-data)',
    check: anything,
  },
  {
    env: 'PARTITIONS',
    flag: '--partitions <n>',
    help: 'partitions of the generator, GenerateDimensions and PrereqAverage (default: 2)',
    check: integer(1),
  },
  {
    env: 'AVERAGE_PARTITIONS',
    flag: '--average-partitions <n>',
    help: 'partitions of Average and its outputs, keyed by dimension (default: 1)',
    check: integer(1),
  },
  {
    env: 'READINGS_PER_WINDOW',
    flag: '--readings-per-window <n>',
    help: 'readings per streaming window: per partition (generator), in all (stream); default 5000',
    check: integer(1),
  },
  {
    env: 'STREAM_WINDOWS',
    flag: '--stream-windows <kind>',
    help: 'Redis stream: count (a window waits for its readings; copies agree at any producer rate) or time (a window takes what arrived); default count',
    check: (text) => {
      if (text !== 'count' && text !== 'time') throw new InvalidArgumentError('expected count or time');
    },
  },
  {
    env: 'APP_WINDOW',
    flag: '--app-window <n>',
    help: 'streaming windows per application window (default: 10)',
    check: integer(1),
  },
  {
    env: 'WINDOW_MS',
    flag: '--window-ms <ms>',
    help: 'streaming window length in ms (default: 1000; sluice run --window-ms overrides it)',
    check: integer(1),
  },
  {
    env: 'ALERT_THRESHOLD',
    flag: '--alert-threshold <percent>',
    help: 'alert when an average is above this (default: 70)',
    check: integer(0),
  },
  {
    env: 'VALUE_CAP',
    flag: '--value-cap <percent>',
    help: 'a reading counts at most this much (default: 90)',
    check: integer(0),
  },
  {
    env: 'HOT_DEVICES',
    flag: '--hot-devices <list>',
    help: 'generator: devices that run hot, e.g. 7,12, or none (default: 7)',
    check: devices,
  },
  { env: 'SEED', flag: '--seed <n>', help: 'generator: its seed (default: 1)', check: integer(0) },
  {
    env: 'TIME_ORIGIN',
    flag: '--time-origin <time>',
    help: 'generator: stamp the first window at this time (epoch ms or ISO date), each next one a window later, so runs compare equal (default: each window’s own start)',
    check: (text) => void parseTime(text),
  },
];

/** The commander option name of a setting (`--readings-stream <url>` → `readingsStream`). */
function optionName(s: Setting): string {
  return s.flag
    .split(' ')[0]!
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds every setting as an option of `command` (start.ts adds them to its own). */
export function addSettingOptions(command: Command): Command {
  for (const s of SETTINGS) {
    command.option(s.flag, `${s.help} [${s.env}]`, (text: string) => {
      s.check(text);
      return text;
    });
  }
  return command;
}

/**
 * Writes the settings given as options (commander's parsed `opts`) into `env`, over its variables;
 * returns `env`.
 */
export function settingsIntoEnv(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  for (const s of SETTINGS) {
    const value = opts[optionName(s)];
    if (typeof value === 'string') env[s.env] = value;
  }
  return env;
}

/**
 * Parses `args` (`--redis-url redis://… --partitions 4`, what follows `--` on `sluice run APP`) and writes
 * them into `env` (default process.env) over the variables; returns `env`. A bad flag or value throws a
 * ConfigError of one line (`sluice run` prints it and exits with 2).
 */
export function applyFlags(args: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (args.length === 0) return env;
  if (args.includes('--help') || args.includes('-h')) {
    // Under `sluice run` the module cannot print a help page and exit 0: it names the flags in one line.
    const flags = SETTINGS.map((x) => x.flag).join(', ');
    throw new ConfigError(`machine-data settings: ${flags} (npm start -- --help describes them)`);
  }
  const command = addSettingOptions(new Command('machine-data'))
    .helpOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    command.parse([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // One line: commander puts a "(Did you mean --redis-url?)" on a line of its own.
      const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      throw new ConfigError(`machine-data: ${message.trim()}`);
    }
    throw e;
  }
  if (command.args.length > 0) {
    throw new ConfigError(`machine-data: unexpected argument '${command.args[0]}' (settings are --flags)`);
  }
  return settingsIntoEnv(command.opts(), env);
}

function set(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  try {
    SETTINGS.find((s) => s.env === name)?.check(v);
  } catch (e) {
    throw new ConfigError(`machine-data: ${name}=${v}: ${(e as Error).message}`);
  }
  return v;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = set(env, name);
  return text === undefined ? fallback : Number(text);
}

/** The settings from `env` (after applyFlags, flags included); a bad value throws a ConfigError. */
export function machineDataConfig(env: NodeJS.ProcessEnv = process.env): MachineDataConfig {
  const hot = set(env, 'HOT_DEVICES') ?? '7';
  const timeOrigin = set(env, 'TIME_ORIGIN');
  return {
    readingsStream: set(env, 'READINGS_STREAM'),
    redisUrl: set(env, 'REDIS_URL'),
    smtpUrl: set(env, 'SMTP_URL'),
    alertTo: set(env, 'ALERT_TO'),
    out: set(env, 'MACHINE_DATA_OUT') ?? 'out/machine-data',
    partitions: int(env, 'PARTITIONS', 2),
    averagePartitions: int(env, 'AVERAGE_PARTITIONS', 1),
    readingsPerWindow: int(env, 'READINGS_PER_WINDOW', 5000),
    streamWindows: set(env, 'STREAM_WINDOWS') === 'time' ? 'time' : 'count',
    applicationWindowCount: int(env, 'APP_WINDOW', 10),
    streamingWindowMs: int(env, 'WINDOW_MS', 1000),
    alertThreshold: int(env, 'ALERT_THRESHOLD', 70),
    valueCap: int(env, 'VALUE_CAP', 90),
    hotDevices: hot === 'none' ? [] : hot.split(',').map((d) => Number(d.trim())),
    seed: int(env, 'SEED', 1),
    timeOriginMs: timeOrigin === undefined ? undefined : parseTime(timeOrigin),
  };
}
