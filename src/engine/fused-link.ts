import type { OperatorActor } from './operator-actor.ts';
import type { Emit, Outlet } from './outlets.ts';

/** What a link's push calls: rebound when a recovery replaces the downstream actor. */
interface Target {
  handler: (tuple: unknown) => void;
  actor: OperatorActor;
}

/**
 * A thread-local edge: the upstream's emit calls the downstream's input handler directly (no queue,
 * no batch). Errors thrown downstream are attributed to the downstream actor on their way up.
 *
 * One link object per fused channel for the life of the run: a recovery rebinds it to the new
 * downstream instance (`rebind`) instead of building a new one. Why: the fused chain is fast only while
 * TurboFan inlines it whole into the input operator's `emitTuples` (escape analysis then removes the
 * tuples). The first time, each handler is a constant of its push closure and is inlined without
 * feedback. A rebuilt chain had new push closures: the operators' `out.emit(…)` call sites (shared by
 * every instance of a class) had seen the old ones, and the one push code shared by every link had one
 * call site for every handler of the application: megamorphic, so the chain was no longer inlined past
 * its first link and the tuples were allocated again (fused throughput ~0.55× after one recovery, for
 * the rest of the run). So the operators' emit stays the very same function for the whole run, and
 * each link's push is compiled from a source of its own (`new Function`), so that its handler call has
 * feedback of its own: the old and new handler are closures of one function, which TurboFan inlines.
 */
export class FusedLink implements Outlet {
  readonly push: Emit;
  private readonly target: Target;

  /** `counted` (metrics on): tuples crossing it are counted there, the one count per tuple (no batches). */
  constructor(
    public downstream: OperatorActor,
    port: string,
    counted?: { tuples: number },
  ) {
    this.target = { handler: downstream.handlerOf(port), actor: downstream };
    this.push = compilePush(this.target, counted);
  }

  /** A recovery replaced the downstream actor: the same push now calls the new instance's handler. */
  rebind(downstream: OperatorActor, port: string): void {
    this.downstream = downstream;
    this.target.handler = downstream.handlerOf(port);
    this.target.actor = downstream;
  }

  begin(window: number): void {
    this.downstream.fusedBegin(window);
  }

  end(window: number): void | Promise<void> {
    return this.downstream.fusedEnd(window);
  }

  flush(): void {
    this.downstream.flushOutlets();
  }
}

/**
 * Numbers each push's source: V8 caches `new Function` by source text, and the cached function shares its
 * feedback (identical sources would share one call site again: megamorphic once two links run).
 */
let compiled = 0;

/** A push function with bytecode, and so call feedback, of its own (see FusedLink). */
function compilePush(target: Target, counted: { tuples: number } | undefined): Emit {
  const make = new Function(
    'target',
    'counted',
    `return function fusedPush${++compiled}(tuple) {
      ${counted ? 'counted.tuples++;' : ''}
      const handler = target.handler;
      try {
        handler(tuple);
      } catch (e) {
        throw target.actor.tag('tuple', e);
      }
    };`,
  ) as (t: Target, c: { tuples: number } | undefined) => Emit;
  return make(target, counted);
}
