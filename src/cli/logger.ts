/**
 * The command's logger, on stderr: pino's JSON lines with `--json`, otherwise one readable line per
 * entry (coloured on a terminal). Messages carry the whole story in text; with `--json` the same facts
 * are fields too. Writes are synchronous, so nothing is lost when the process exits.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { CliError } from './errors.ts';

export type { Logger };

/** Pino's levels, quietest last. */
export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface LoggerOptions {
  json: boolean;
  /** Where entries go (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Pino level (default 'info'; SLUICE_LOG_LEVEL overrides it). */
  level?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const level = options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new CliError(`SLUICE_LOG_LEVEL=${level} is not a log level: use one of ${LEVELS.join(', ')}`);
  }
  if (options.json) {
    return pino({ level, base: undefined }, { write: (line: string) => stream.write(line) });
  }
  const format = pretty.prettyFactory({
    colorize: stream.isTTY === true,
    hideObject: true,
    ignore: 'pid,hostname',
    translateTime: 'HH:MM:ss.l',
  });
  return pino({ level, base: undefined }, { write: (line: string) => stream.write(format(line)) });
}
