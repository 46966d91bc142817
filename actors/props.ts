import { SluiceError } from '../src/index.ts';

/**
 * An operator's props that cannot work (a count that is not a whole number, a missing function or path).
 * Thrown by the constructor, so `dag.add` refuses them before anything runs (`sluice run` and `sluice
 * plan` exit 2 with one line); not restartable, since a restart would meet the same props. Without it,
 * such props ran silently (a source of `tuplesPerWindow: -1` emitted nothing) or failed in every restart.
 */
export class InvalidPropsError extends SluiceError {
  readonly restartable = false;
  constructor(operator: string, problem: string) {
    super('SLUICE_INVALID_PROPS', `${operator}: ${problem}`);
  }
}

type Rule =
  | 'count'
  | 'positive count'
  | 'non-negative'
  | 'finite'
  | 'function'
  | 'text'
  | 'path'
  | readonly string[];

const WANTS: Record<Exclude<Rule, readonly string[]>, [string, (v: unknown) => boolean]> = {
  count: ['an integer ≥ 0', (v) => Number.isSafeInteger(v) && (v as number) >= 0],
  'positive count': ['an integer ≥ 1', (v) => Number.isSafeInteger(v) && (v as number) >= 1],
  'non-negative': ['a finite number ≥ 0', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0],
  finite: ['a finite number', (v) => typeof v === 'number' && Number.isFinite(v)],
  function: ['a function', (v) => typeof v === 'function'],
  text: ['a string', (v) => typeof v === 'string'],
  path: ['a non-empty path', (v) => typeof v === 'string' && v.trim() !== ''],
};

/**
 * Checks the props named in `rules` (each optional unless listed in `required`); throws InvalidPropsError
 * naming the operator, the prop and what it must be.
 */
export function checkProps(
  operator: string,
  props: object,
  rules: Record<string, Rule>,
  required: readonly string[] = [],
): void {
  for (const [name, rule] of Object.entries(rules)) {
    const value = (props as Record<string, unknown>)[name];
    if (value === undefined && !required.includes(name)) continue;
    const [wants, ok] = Array.isArray(rule)
      ? [
          `one of ${rule.map((r) => JSON.stringify(r)).join(', ')}`,
          (v: unknown) => rule.includes(v as string),
        ]
      : WANTS[rule as Exclude<Rule, readonly string[]>];
    if (!ok(value)) {
      const got = typeof value === 'function' ? 'a function' : describe(value);
      throw new InvalidPropsError(operator, `props.${name} must be ${wants} (got ${got})`);
    }
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return typeof v;
}
