import { afterEach, expect, it } from 'vitest';
import { type CallOwner, recordCalls } from '../../src/engine/call-scope.ts';
import { application, Operator } from '../../src/index.ts';
import { runToEnd } from './kit.ts';
import { ListSource, Pass } from './operators.ts';

// What a container's worker reports as the actor it is calling when its heartbeat stops.
let calling: CallOwner | null = null;
const seenInBeginWindow: string[] = [];

class Head extends Operator {
  readonly out = this.output<number>();
  readonly in = this.input<number>((n) => this.out.emit(n));
  override beginWindow(): void {
    seenInBeginWindow.push(calling?.id ?? 'nobody');
  }
}

afterEach(() => recordCalls(null));

it('names the actor whose beginWindow runs, not the downstream fused into its thread that opened its window first', async () => {
  recordCalls((owner) => {
    calling = owner;
  });
  const app = application('call-scope', (dag) => {
    const src = dag.add('src', ListSource<number>, { make: (i: number) => i, perWindow: 2 });
    const head = dag.add('head', Head);
    const tail = dag.add('tail', Pass<number>);
    const sink = dag.add('sink', Pass<number>);
    dag.stream('in', src.out, head.in);
    dag.stream('fused', head.out, tail.in).locality('thread');
    dag.stream('out', tail.out, sink.in);
  });
  await runToEnd(app, { windows: 3 });
  expect(seenInBeginWindow).toEqual(['head', 'head', 'head']);
});
