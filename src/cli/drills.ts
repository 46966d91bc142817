/**
 * `sluice run APP --fault …`: failure drills on a user's own application. `actor:ID@W` fails actor ID
 * (its beginWindow throws) when it reaches window W; `container:N@W` hard-kills container N's worker once
 * it has finished window W (the main thread hears of it while the worker is on the next). Each fires once, whatever restarts follow, so a drill shows one recovery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { PassThroughUnifier } from '../api/unifier.ts';
import type { LaunchOptions } from '../engine/launch-options.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';
import { containerAppModule, firedFaults, writeConfig } from '../testkit/cross-thread.ts';
import { type Fault, FaultInjector } from '../testkit/faults.ts';
import { instrumentPlan } from '../testkit/instrument.ts';
import { CliError } from './errors.ts';

export type Drill =
  | { readonly kind: 'actor'; readonly actor: string; readonly window: number }
  | { readonly kind: 'container'; readonly container: number; readonly window: number };

/**
 * Commander's parser of one `--fault` value, collecting repeated flags in order. A drill given twice is
 * one drill: it names a moment (this target at this window), which happens once.
 */
export function collectDrill(value: string, previous: readonly Drill[] = []): Drill[] {
  const drill = parseDrill(value);
  const named = describeDrill(drill);
  return previous.some((d) => describeDrill(d) === named) ? [...previous] : [...previous, drill];
}

export function parseDrill(value: string): Drill {
  // The window follows the last '@': actor ids hold '#', ':', '>', '[' and '.' (partitions, unifiers).
  const at = value.lastIndexOf('@');
  const colon = value.indexOf(':');
  const usage = 'expected actor:ID@W or container:N@W (W: a window ≥ 1).';
  if (colon < 0 || at < colon) throw new InvalidArgumentError(usage);
  const kind = value.slice(0, colon);
  const target = value.slice(colon + 1, at);
  const windowText = value.slice(at + 1);
  if (!/^\d+$/.test(windowText) || Number(windowText) < 1 || !Number.isSafeInteger(Number(windowText)))
    throw new InvalidArgumentError(usage);
  const window = Number(windowText);
  if (kind === 'actor' && target.length > 0) return { kind: 'actor', actor: target, window };
  if (kind === 'container' && /^\d+$/.test(target) && Number.isSafeInteger(Number(target)))
    return { kind: 'container', container: Number(target), window };
  throw new InvalidArgumentError(usage);
}

export function describeDrill(d: Drill): string {
  return d.kind === 'actor' ? `actor:${d.actor}@${d.window}` : `container:${d.container}@${d.window}`;
}

/** The testkit's fault for an actor drill: it throws at the start of the window. */
export function actorFault(d: Extract<Drill, { kind: 'actor' }>): Fault {
  return { kind: 'throw', actor: d.actor, window: d.window, call: 'beginWindow' };
}

export interface ActorDrillRun {
  /** What launch needs to inject them: a plan instrument in one thread, a wrapping module on containers. */
  readonly launch: Pick<LaunchOptions, 'instrument' | 'module'>;
  /** The drills that went off. */
  fired(): Fault[];
  /** Removes what the drills kept on disk (on containers: the markers of fired drills). */
  close(): void;
}

/**
 * The actor drills, after checking that every named actor is in the plan; undefined when there are none.
 * In one thread, a plan instrument wraps the drilled actors' classes; on containers (`appFile` given, the
 * application module), a function cannot reach the workers, so each loads the test kit's container-app
 * module, which wraps the application's classes and fires each drill once through a marker file.
 */
export function actorDrills(
  drills: readonly Drill[],
  plan: PhysicalPlan,
  appFile?: string,
): ActorDrillRun | undefined {
  const actors = drills.filter((d) => d.kind === 'actor');
  if (actors.length === 0) return undefined;
  const byId = new Map(plan.actors.map((a) => [a.id, a]));
  for (const d of actors) {
    const actor = byId.get(d.actor);
    if (actor === undefined) {
      throw new CliError(
        `--fault ${describeDrill(d)}: no actor "${d.actor}" in the plan (actors: ${[...byId.keys()].join(', ')}; see sluice plan)`,
      );
    }
    // A worker wraps the application's own classes (testkit/cross-thread.ts): the runtime's pass-through
    // unifier is not one of them, so such a drill would never go off there.
    if (appFile !== undefined && actor.kind === 'unifier' && actor.cls === PassThroughUnifier) {
      throw new CliError(
        `--fault ${describeDrill(d)}: ${d.actor} is a default (pass-through) unifier, which runs no code of the application's and cannot be drilled on containers: drill one of the partitions it merges, or run it with --containers 0`,
      );
    }
    // The drill throws in beginWindow, which such an actor only gets where an application window opens.
    const k = actor.applicationWindowCount;
    if ((d.window - 1) % k !== 0) {
      const before = d.window - ((d.window - 1) % k);
      throw new CliError(
        `--fault ${describeDrill(d)}: ${d.actor} has application windows of ${k} (it begins windows 1, ${1 + k}, ${1 + 2 * k}, …), so it never begins window ${d.window}: use actor:${d.actor}@${before} or @${before + k}`,
      );
    }
  }
  const faults = actors.map(actorFault);
  if (appFile !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-drills-'));
    writeConfig(dir, { app: pathToFileURL(appFile).href, faults, containerOf: {}, record: false });
    return {
      launch: { module: containerAppModule(dir) },
      fired: () => firedFaults(dir, faults),
      close: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const injector = new FaultInjector(faults);
  const targets = new Set(actors.map((d) => d.actor));
  // Only the drilled actors are wrapped: the others keep their own classes and their speed.
  const instrument = (p: PhysicalPlan): PhysicalPlan => {
    const wrapped = instrumentPlan(p, injector);
    return { ...p, actors: p.actors.map((a, i) => (targets.has(a.id) ? wrapped.actors[i]! : a)) };
  };
  return { launch: { instrument }, fired: () => injector.fired, close: () => {} };
}

/**
 * The container drills, checked against the run's containers: a container kill needs a run on
 * worker-thread containers (`--containers N`, N ≥ 1) and a container that exists and hosts actors
 * (`hosting`, from the placement: an empty one never reaches a window).
 */
export function containerDrills(
  drills: readonly Drill[],
  containers: number | undefined,
  hosting?: ReadonlySet<number>,
): { container: number; window: number }[] {
  const kills = drills.filter((d) => d.kind === 'container');
  for (const d of kills) {
    if (containers === undefined || containers < 1) {
      throw new CliError(
        `--fault ${describeDrill(d)} needs a run on worker-thread containers: add --containers N`,
      );
    }
    if (d.container >= containers) {
      throw new CliError(
        `--fault ${describeDrill(d)}: there is no container ${d.container} in a run on ${containers} containers (0 to ${containers - 1})`,
      );
    }
    if (hosting !== undefined && !hosting.has(d.container)) {
      throw new CliError(
        `--fault ${describeDrill(d)}: container ${d.container} hosts no actors in a run on ${containers} containers (sluice plan APP --containers ${containers} shows the placement), so it never reaches a window`,
      );
    }
  }
  return kills.map((d) => ({ container: d.container, window: d.window }));
}
