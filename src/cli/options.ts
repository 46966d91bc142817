/** Parsers for option values: a bad value is a usage error that names the option and what it needs. */
import { InvalidArgumentError } from 'commander';

/** One or more ws:// or wss:// URLs, comma-separated (`--join`, `--cluster`); returned as given. */
export function clusterUrls(value: string): string {
  for (const part of value.split(',')) {
    let scheme = '';
    try {
      scheme = new URL(part.trim()).protocol;
    } catch {
      // not a URL: refused below
    }
    if (scheme !== 'ws:' && scheme !== 'wss:') {
      throw new InvalidArgumentError('expected ws://HOST:PORT (or wss://), comma-separated for standbys.');
    }
  }
  return value;
}

/** A node id (`--id`): shown in logs, metrics labels and placement; 1–200 printable characters. */
export function nodeId(value: string): string {
  if (value.trim() === '' || value.length > 200 || /[\p{Cc}\s]/u.test(value)) {
    throw new InvalidArgumentError('expected 1 to 200 characters, no spaces or control characters.');
  }
  return value;
}

/** A host name or address (`--data-host`): no spaces, not empty. */
export function hostName(value: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s/[\]@:]+|[0-9a-fA-F:.]+)$/.test(value)) {
    throw new InvalidArgumentError('expected a host name or an IP address (e.g. 10.0.0.7).');
  }
  return value;
}

/** An integer ≥ 1 (`--windows`, `--runs`). */
export function positiveInteger(value: string): number {
  return integerAtLeast(1)(value);
}

/** An integer from 1 to `most` (`--sample`, which the console takes up to MAX_SAMPLE). */
export function integerUpTo(most: number): (value: string) => number {
  return (value) => {
    const n = positiveInteger(value);
    if (n > most) throw new InvalidArgumentError(`expected an integer from 1 to ${most}.`);
    return n;
  };
}

/** An integer ≥ `least` (`--heartbeat-timeout`, which a launch refuses below MIN_HEARTBEAT_TIMEOUT_MS). */
export function integerAtLeast(least: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < least) {
      throw new InvalidArgumentError(`expected an integer ≥ ${least}.`);
    }
    return n;
  };
}

/** An integer ≥ 0 (`--checkpoint-every`, where 0 turns checkpoints off; `--seed`). */
export function nonNegativeInteger(value: string): number {
  return integerAtLeast(0)(value);
}

/**
 * A number of milliseconds ≥ 1 (`--window-ms`), in decimal notation: a shorter window is below what a
 * timer can keep, and `1e3`, `0x10` or `Infinity` are more likely slips than intents.
 */
export function windowMs(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(n) || n < 1) {
    throw new InvalidArgumentError('expected a number of milliseconds ≥ 1.');
  }
  return n;
}
