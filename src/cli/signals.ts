/**
 * Ctrl-C and SIGTERM: the first asks for a graceful stop (close the open window, final checkpoint),
 * a second one exits at once (130 after SIGINT, 143 after SIGTERM), keeping the last committed
 * checkpoint for the next launch.
 */
import { EXIT_INTERRUPTED } from './errors.ts';
import type { Logger } from './logger.ts';

const EXIT_CODES = { SIGINT: EXIT_INTERRUPTED, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

/** Installs the handlers; returns a function that removes them. */
export function handleStopSignals(
  stop: () => void,
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
  /** `--json`: the last line is always `exit`, this one too. */
  json = false,
): () => void {
  let stopping = false;
  const onSignal = (signal: StopSignal) => {
    if (stopping) {
      log.warn({ event: 'interrupted', signal }, `${signal} again: exiting without a final checkpoint`);
      if (json) log.info({ event: 'exit', exitCode: EXIT_CODES[signal] }, `exit ${EXIT_CODES[signal]}`);
      exit(EXIT_CODES[signal]);
      return;
    }
    stopping = true;
    log.info(
      { event: 'stopping', signal },
      `${signal}: stopping after the open window and a final checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to exit at once)`,
    );
    stop();
  };
  const handlers = (Object.keys(EXIT_CODES) as StopSignal[]).map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => {
    for (const remove of handlers) remove();
  };
}
