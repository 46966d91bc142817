/**
 * The arguments an application was started with: what follows `--` on `sluice run APP [options] -- ARGS`
 * (and `sluice plan APP -- ARGS`). The command sets them before it imports the application module, so the
 * module can read them as it loads and take its own settings as flags:
 *
 *     // app.ts, run as `sluice run app.ts --windows 20 -- --rate 500`
 *     const rate = Number(parseMyFlags(applicationArgs()).rate ?? process.env.RATE ?? 100);
 *
 * Empty when the application was launched otherwise (`launch()` from code, a test), and inside a
 * worker-thread container (`--containers`): a container loads the module again with a copy of the
 * environment, so an application that must agree with itself there (the same DAG) writes its flags into
 * `process.env` as it loads, as examples/machine-data/config.ts does.
 */
let current: readonly string[] = [];

export function applicationArgs(): readonly string[] {
  return current;
}

/** Set by the sluice command before it loads the application module. */
export function setApplicationArgs(args: readonly string[]): void {
  current = Object.freeze([...args]);
}
