/**
 * The stack trace to show for an operator failure: its cause's own, so the operator's frames (where it
 * threw) come first, not the runtime frames that wrapped it in an OperatorFailure. A chain of causes
 * follows, each as "caused by". Shown after the command's error line, in --json entries, and at debug
 * level for failures that were restarted.
 */
import { OperatorFailure } from '../engine/failure.ts';

const MAX_CAUSES = 5;

/** The cause's stack of an operator failure; undefined for other errors or a cause that is not an Error. */
export function causeStack(error: unknown): string | undefined {
  if (!(error instanceof OperatorFailure)) return undefined;
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
