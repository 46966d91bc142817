import type { OperatorContext } from '../api/context.ts';
import { InputOperator, type Operator, type OperatorClass } from '../api/operator.ts';
import { InputPort } from '../api/ports.ts';
import { WindowFencedOutput } from '../api/window-fenced-output.ts';
import { isPromise } from '../engine/maybe-async.ts';
import type { ActorPlan, PhysicalPlan } from '../plan/physical-plan.ts';
import type { FaultInjector } from './faults.ts';
import type { OutputRecorder } from './output-recorder.ts';

/**
 * Wraps every actor's operator class in a subclass that asks the fault injector before each call, and
 * records what sink actors (no outgoing channel) receive. The application's own classes are untouched.
 */
export function instrumentPlan(
  plan: PhysicalPlan,
  faults: FaultInjector,
  /** Without one, nothing is recorded (the CLI's failure drills only inject). */
  recorder?: OutputRecorder,
): PhysicalPlan {
  const writers = new Set(plan.channels.map((c) => c.from.actor));
  return {
    ...plan,
    actors: plan.actors.map(
      (a): ActorPlan => ({
        ...a,
        cls: wrapOperatorClass(a.cls, a.id, faults, a.isInput || writers.has(a.id) ? undefined : recorder),
      }),
    ),
  };
}

/**
 * A subclass of `base` that asks `faults` before each call and, given a recorder, records what it receives.
 * `actorId` undefined: the instance's own (ctx.actorId, known from setup on), for classes wrapped in the
 * logical DAG, where one class serves every partition (cross-thread.ts).
 */
export function wrapOperatorClass(
  base: OperatorClass<Operator<any, any>>,
  actorId: string | undefined,
  faults: Pick<FaultInjector, 'check'>,
  recorder?: Pick<OutputRecorder, 'apply'> & Partial<Pick<OutputRecorder, 'applied'>>,
): OperatorClass<Operator<any, any>> {
  const idOf = (ctx: OperatorContext | undefined) => actorId ?? ctx?.actorId ?? '';
  const Base = base as new (props?: unknown) => Operator<any, any>;
  const wrapped = class extends Base {
    #ctx: OperatorContext | undefined;
    #tuples = 0;
    #window = 0;
    #received = new Map<number, unknown[]>();

    constructor(props?: unknown) {
      super(props);
      for (const [field, port] of Object.entries(this)) {
        if (!(port instanceof InputPort)) continue;
        const handler = port.handler;
        (this as any)[field] = new InputPort((t: unknown) => {
          const w = this.#ctx?.windowId ?? 0;
          if (w !== this.#window) {
            this.#window = w;
            this.#tuples = 0;
          }
          faults.check(idOf(this.#ctx), w, 'tuple', ++this.#tuples);
          if (recorder) this.#record(w, t);
          handler(t);
        });
      }
    }

    #record(w: number, t: unknown): void {
      let list = this.#received.get(w);
      if (!list) this.#received.set(w, (list = []));
      list.push(t);
    }

    get windowUnderTest(): number {
      return this.#ctx?.windowId ?? 0;
    }

    get actorUnderTest(): string {
      return idOf(this.#ctx);
    }

    override setup(ctx: OperatorContext) {
      this.#ctx = ctx;
      return super.setup(ctx);
    }

    // What the operator's calls return is handed back as is: the runtime refuses a promise from
    // beginWindow or emitTuples, and reads emitTuples' `false` (waiting on I/O), as it does unwrapped.
    override beginWindow(w: number): unknown {
      faults.check(idOf(this.#ctx), w, 'beginWindow');
      return super.beginWindow(w);
    }

    override committed(w: number) {
      faults.check(idOf(this.#ctx), w, 'committed');
      return super.committed(w);
    }

    override endWindow() {
      const w = this.#ctx?.windowId ?? 0;
      faults.check(idOf(this.#ctx), w, 'endWindow');
      try {
        faults.check(idOf(this.#ctx), w, 'endWindowAsync');
      } catch (e) {
        return Promise.reject(e);
      }
      if (recorder) {
        if (!this.#received.has(w)) this.#received.set(w, []);
        for (const [window, tuples] of [...this.#received].sort((a, b) => a[0] - b[0])) {
          if (window > w) continue;
          recorder.apply(idOf(this.#ctx), window, tuples);
          this.#received.delete(window);
        }
      }
      return super.endWindow();
    }
  };
  const applied = recorder?.applied?.bind(recorder);
  if (applied && base.prototype instanceof WindowFencedOutput) {
    const applyWindow = (base.prototype as any).applyWindow as (
      w: number,
      tuples: unknown[],
      epoch: number,
    ) => unknown;
    return class extends wrapped {
      applyWindow(window: number, tuples: unknown[], epoch: number): unknown {
        const done = () => applied(this.actorUnderTest, window, epoch);
        const r = applyWindow.call(this, window, tuples, epoch);
        if (isPromise(r)) return r.then(done);
        done();
        return r;
      }
    };
  }
  if (!(base.prototype instanceof InputOperator)) return wrapped;
  const emitTuples = (base.prototype as InputOperator<any, any>).emitTuples;
  return class extends wrapped {
    emitTuples(): unknown {
      faults.check(this.actorUnderTest, this.windowUnderTest, 'emitTuples');
      return emitTuples.call(this);
    }
  };
}
