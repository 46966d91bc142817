/**
 * From an error to the one line the command prints (`sluice: …`) and its exit code. Every failure the
 * command knows gets a message that says what was wrong; the stack trace stays out of the user's way,
 * except an operator failure's: its cause's stack (where the operator threw) follows the line.
 */
import { SluiceError } from '../core/errors.ts';
import { DagError } from '../dag/errors.ts';
import { OperatorFailure } from '../engine/failure.ts';
import { StoreLockedError, StorePathError } from '../storage/errors.ts';
import { causeStack } from './stack.ts';

/** The run finished (or was stopped gracefully). */
export const EXIT_OK = 0;
/** The run failed: an operator failure escalated, or the engine could not go on. */
export const EXIT_FAILED = 1;
/** Bad usage or bad input: options, the application file, its DAG, the store. */
export const EXIT_USAGE = 2;
/** Interrupted by a second Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** A failure the command itself detects (bad file, bad export…): its message is printed as is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Explained {
  message: string;
  exitCode: number;
  /** An operator failure's cause's stack (stack.ts), printed indented after the line. */
  stack?: string;
}

/** Codes raised only for what the user gave (options, files, configuration): exit 2, not 1. */
const BAD_INPUT = new Set([
  'SLUICE_INVALID_OPTION',
  'SLUICE_INVALID_ATTRIBUTE',
  'SLUICE_INVALID_PROPS',
  'SLUICE_STORE_PLAN_MISMATCH',
  'SLUICE_STORE_DAMAGED',
  // A --store redis:// nobody answers at: the run never started, as with a store path that is a file.
  'SLUICE_STORE_UNREACHABLE',
  'SLUICE_CLUSTER_SECRET',
  'SLUICE_CLUSTER_NOT_AN_APPLICATION',
  'SLUICE_CLUSTER_NO_SECRET',
  'SLUICE_SECRET',
  'SLUICE_LISTEN_ADDRESS',
  'SLUICE_REDIS_CONFIG',
  'SLUICE_ALERT_CONFIG',
  'SLUICE_MACHINE_DATA_CONFIG',
  'SLUICE_APP_DIFFERS',
]);

export function explain(error: unknown): Explained {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof DagError) {
    return { message: `invalid DAG (${error.code}): ${error.message}`, exitCode: EXIT_USAGE };
  }
  if (error instanceof StoreLockedError) {
    return { message: `store in use (${error.code}): ${error.message}`, exitCode: EXIT_USAGE };
  }
  if (error instanceof StorePathError) {
    return { message: `bad store (${error.code}): ${error.message}`, exitCode: EXIT_USAGE };
  }
  if (error instanceof OperatorFailure) {
    const message = `run failed (${error.code}): ${error.message}`;
    // An operator that refused its configuration (not restartable: the failure carries the cause's code)
    // is bad input, as when the constructor refuses it: a service manager must not relaunch it in a loop.
    const exitCode = BAD_INPUT.has(error.code) ? EXIT_USAGE : EXIT_FAILED;
    return { message, exitCode, stack: causeStack(error) };
  }
  if (error instanceof SluiceError) {
    const badInput = BAD_INPUT.has(error.code);
    const exitCode = badInput ? EXIT_USAGE : EXIT_FAILED;
    return { message: `${error.message} (${error.code})`, exitCode };
  }
  if (error instanceof Error) return { message: `${error.name}: ${error.message}`, exitCode: EXIT_FAILED };
  return { message: String(error), exitCode: EXIT_FAILED };
}

/** `sluice: <message>` on one line, whatever the message holds. */
export function errorLine(message: string): string {
  return `sluice: ${oneLine(message)}\n`;
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The first non-empty line of an error's message: enough to point at a syntax error. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? text
  );
}
