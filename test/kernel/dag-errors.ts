/**
 * Assertions on DagError. Imports the DAG layer only, so the DAG tests do not depend on the runtime.
 */
import { DagError, type DagErrorCode } from '../../src/dag/errors.ts';

/** Runs `fn`, which must throw a DagError; returns it for further checks. */
export function dagErrorOf(fn: () => unknown): DagError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DagError) return e;
    throw new Error(`expected a DagError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a DagError, but nothing was thrown');
}

/** Asserts the error's stable code and that both `where` and the message name what is at fault. */
export function expectDagError(
  error: DagError,
  code: DagErrorCode,
  where: { operator?: string; stream?: string },
): void {
  if (error.code !== code) throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`);
  for (const [key, name] of Object.entries(where) as [keyof typeof where, string][]) {
    if (error.where[key] !== name) {
      throw new Error(`expected where.${key} = "${name}", got ${JSON.stringify(error.where)}`);
    }
    if (!error.message.includes(`"${name}`)) {
      throw new Error(`expected the message to name ${key} "${name}": ${error.message}`);
    }
  }
}
