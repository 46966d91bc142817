/**
 * The stack trace to show for an operator failure: its cause's own, so the operator's frames (where it
 * threw) come first, not the runtime frames that wrapped it in an OperatorFailure. A chain of causes
 * follows, each as "caused by". Shown after the command's error line, in --json entries, and at debug
 * level for failures that were restarted.
 */
import { OperatorFailure } from '../engine/failure.ts';

const MAX_CAUSES = 5;

/**
 * The cause's stack of an operator failure; undefined for other errors, a cause that is not an Error, or
 * a failure that is not restartable (its cause is the runtime's verdict, whose message says it all).
 */
export function causeStack(error: unknown): string | undefined {
  if (!(error instanceof OperatorFailure) || !error.restartable) return undefined;
  const parts: string[] = [];
  for (let c = error.cause; c instanceof Error && parts.length < MAX_CAUSES; c = c.cause) {
    parts.push(c.stack ?? `${c.name}: ${c.message}`);
  }
  return parts.length > 0 ? parts.join('\ncaused by: ') : undefined;
}

/** Every line indented, so that no line of a stack can be taken for the command's own `sluice:` line. */
export function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((line) => `${by}${line.trimStart().startsWith('at ') ? '  ' : ''}${line.trim()}`)
    .join('\n');
}
