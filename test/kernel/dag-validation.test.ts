import { describe, expect, it } from 'vitest';
// The DAG layer only (not the package entry), so these tests do not depend on the runtime.
import { application } from '../../src/api/application.ts';
import { InputOperator, Operator } from '../../src/api/operator.ts';
import type { DagBuilder } from '../../src/dag/dag-builder.ts';
import { DagError } from '../../src/dag/errors.ts';
import type { InputHandle, OutputHandle } from '../../src/dag/handles.ts';
import { planPhysical } from '../../src/plan/planner.ts';
import { dagErrorOf, expectDagError } from './dag-errors.ts';

class NumberSource extends InputOperator {
  readonly out = this.output<number>();
  emitTuples(): void {
    this.out.emit(1);
  }
}

class Pass extends Operator {
  readonly in = this.input<number>((t) => this.out.emit(t));
  readonly out = this.output<number>();
}

class Join extends Operator {
  readonly left = this.input<number>(() => {});
  readonly right = this.input<number>(() => {});
  readonly out = this.output<number>();
}

class StringSource extends InputOperator {
  readonly out = this.output<string>();
  emitTuples(): void {
    this.out.emit('not a number');
  }
}

/** Builds and validates the DAG, then plans it: whichever step rejects the DAG, the error surfaces. */
function check(build: (dag: DagBuilder) => void): DagError {
  return dagErrorOf(() => planPhysical(application('invalid', build).dag()));
}

describe('DAG validation', () => {
  it('accepts a valid DAG (the cases below differ from it in one point)', () => {
    const dag = application('valid', (dag) => {
      const src = dag.add('src', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream('numbers', src.out, sink.in);
    }).dag();
    expect([...dag.operators.keys()]).toEqual(['src', 'sink']);
    expect(planPhysical(dag).actors.map((a) => a.id)).toEqual(['src', 'sink']);
  });

  it('rejects an operator name used twice', () => {
    const err = check((dag) => {
      dag.add('src', NumberSource);
      dag.add('src', NumberSource);
    });
    expectDagError(err, 'SLUICE_DUPLICATE_NAME', { operator: 'src' });
  });

  it('rejects a stream name used twice', () => {
    const err = check((dag) => {
      const src = dag.add('src', NumberSource);
      const a = dag.add('a', Pass);
      const b = dag.add('b', Pass);
      dag.stream('numbers', src.out, a.in);
      dag.stream('numbers', a.out, b.in);
    });
    expectDagError(err, 'SLUICE_DUPLICATE_NAME', { stream: 'numbers' });
  });

  it('rejects a port handle of an operator that is not in this DAG', () => {
    let foreign: OutputHandle<number> | undefined;
    application('other', (dag) => {
      foreign = dag.add('elsewhere', NumberSource).out;
    }).dag();
    const err = check((dag) => {
      dag.add('src', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream('numbers', foreign!, sink.in);
    });
    expectDagError(err, 'SLUICE_UNKNOWN_PORT', { stream: 'numbers' });
    expect(err.message).toContain('elsewhere');
  });

  it('rejects a handle of another DAG even where an operator of the same name exists here', () => {
    // The foreign handle says `src.out` emits numbers; here `src` emits strings. Accepting it would let a
    // string stream into a number port with no compile error.
    let foreign: OutputHandle<number> | undefined;
    application('other', (dag) => {
      foreign = dag.add('src', NumberSource).out;
    }).dag();
    const err = check((dag) => {
      dag.add('src', StringSource);
      const sink = dag.add('sink', Pass);
      dag.stream('numbers', foreign!, sink.in);
    });
    expectDagError(err, 'SLUICE_UNKNOWN_PORT', { stream: 'numbers' });
  });

  it('rejects a bogus handle: a made-up object, an unknown port, an input used as a source', () => {
    const bogus = [
      {},
      { direction: 'output', operator: 'src', port: 'nope' },
      { direction: 'input', operator: 'sink', port: 'in' },
    ];
    for (const handle of bogus) {
      const err = check((dag) => {
        dag.add('src', NumberSource);
        const sink = dag.add('sink', Pass);
        dag.stream('numbers', handle as OutputHandle<number>, sink.in);
      });
      expectDagError(err, 'SLUICE_UNKNOWN_PORT', { stream: 'numbers' });
    }
  });

  it('says what was given instead of a port: undefined (a misspelt name), or a port of the other direction', () => {
    const misspelt = check((dag) => {
      const src = dag.add('src', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream('numbers', src.out, (sink as unknown as { inn: InputHandle<number> }).inn);
    });
    expect(misspelt.message).toBe(
      'stream "numbers": the sink is not an input port of an operator of this DAG (it is undefined: a misspelt port name?)',
    );
    const swapped = check((dag) => {
      const src = dag.add('src', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream('numbers', src.out, sink.out as unknown as InputHandle<number>);
    });
    expect(swapped.message).toBe(
      'stream "numbers": the sink is not an input port of an operator of this DAG ("sink.out", an output port; sink\'s input ports: in)',
    );
  });

  it('rejects an input port that no stream feeds', () => {
    const err = check((dag) => {
      const src = dag.add('src', NumberSource);
      const join = dag.add('join', Join);
      dag.stream('numbers', src.out, join.left);
    });
    expectDagError(err, 'SLUICE_UNCONNECTED_PORT', { operator: 'join' });
    expect(err.message).toContain('join.right');
  });

  it('rejects an input port fed by two streams', () => {
    const err = check((dag) => {
      const a = dag.add('a', NumberSource);
      const b = dag.add('b', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream('first', a.out, sink.in);
      dag.stream('second', b.out, sink.in);
    });
    expectDagError(err, 'SLUICE_PORT_ALREADY_CONNECTED', { operator: 'sink', stream: 'second' });
    expect(err.message).toContain('"first"');
  });

  it('rejects a cycle and names the streams on it, not those leading into or out of it', () => {
    const err = check((dag) => {
      // Added first, so the search for the cycle starts downstream of it.
      const after = dag.add('after', Pass);
      const end = dag.add('end', Pass);
      const src = dag.add('src', NumberSource);
      const join = dag.add('join', Join);
      const pass = dag.add('pass', Pass);
      const loop = dag.add('loop', Pass);
      dag.stream('in', src.out, join.left);
      dag.stream('forward', join.out, pass.in);
      dag.stream('on', pass.out, loop.in);
      // 'back' closes the cycle and also leaves it, towards 'after'.
      dag.stream('back', loop.out, [join.right, after.in]);
      dag.stream('out', after.out, end.in);
    });
    expect(err.code).toBe('SLUICE_CYCLE');
    expect([...(err.where.streams ?? [])].sort()).toEqual(['back', 'forward', 'on']);
    // In the order tuples flow, from any stream of the cycle.
    const order = ['forward', 'on', 'back'];
    const first = order.indexOf(err.where.streams![0]!);
    expect(err.where.streams).toEqual([...order.slice(first), ...order.slice(0, first)]);
    expect(err.where.stream).toBe(err.where.streams![0]);
    expect(err.message).not.toContain('"in"');
    expect(err.message).not.toContain('"out"');
    expect(err.message).toContain('"forward" (join → pass)');
    expect(err.message).toContain('"on" (pass → loop)');
    expect(err.message).toContain('"back" (loop → join)');
  });

  it('rejects an InputOperator that declares an input port', () => {
    class BadSource extends InputOperator {
      readonly in = this.input<number>(() => {});
      readonly out = this.output<number>();
      emitTuples(): void {}
    }
    const err = check((dag) => {
      dag.add('bad', BadSource);
    });
    expectDagError(err, 'SLUICE_INPUT_OPERATOR_HAS_INPUT', { operator: 'bad' });
  });

  it('rejects a class that does not extend Operator', () => {
    class NotAnOperator {
      readonly out = 1;
    }
    const err = check((dag) => {
      dag.add('src', NumberSource);
      dag.add('imposter', NotAnOperator as unknown as typeof Pass);
    });
    expectDagError(err, 'SLUICE_NOT_AN_OPERATOR', { operator: 'imposter' });
  });

  it('rejects a DAG without an input operator', () => {
    const err = check((dag) => {
      const a = dag.add('a', Pass);
      const b = dag.add('b', Pass);
      dag.stream('ab', a.out, b.in);
    });
    expect(err.code).toBe('SLUICE_NO_INPUT_OPERATOR');
    expect(err.message).toContain('"invalid"');
    expect(check(() => {}).code).toBe('SLUICE_NO_INPUT_OPERATOR');
  });

  it.each([
    ['an empty stream name', '', 'stream', /non-empty name/],
    ['a NUL in an operator name', 'a\u0000b', 'operator', /control character/],
    ['a newline in a stream name', 'a\nb', 'stream', /control character/],
    ['a lone surrogate', 'a\ud800', 'operator', /lone surrogate/],
    ['a name of 201 characters', 'n'.repeat(201), 'stream', /longer than 200/],
  ])('rejects %s, naming it', (_what, name, kind, message) => {
    const err = check((dag) => {
      const src = dag.add(kind === 'operator' ? name : 'src', NumberSource);
      const sink = dag.add('sink', Pass);
      dag.stream(kind === 'stream' ? name : 'numbers', src.out, sink.in);
    });
    expect(err.code).toBe('SLUICE_INVALID_ATTRIBUTE');
    expect(err.where).toEqual({ [kind]: name });
    expect(err.message).toMatch(message);
  });

  it('rejects an application name that is empty or has a control character', () => {
    for (const name of ['', 'app\r\nBcc: x']) {
      const err = dagErrorOf(() => application(name, () => {}).dag());
      expect(err.code).toBe('SLUICE_INVALID_ATTRIBUTE');
      expect(err.message).toMatch(/application\(\): an application/);
    }
  });

  it('rejects two operators that would run as one actor id (a partition, a unifier), naming both', () => {
    const partition = check((dag) => {
      const src = dag.add('src', NumberSource, undefined, { partitions: 2 });
      const sink = dag.add('src#1', Pass);
      dag.stream('numbers', src.out, sink.in);
    });
    expect(partition.code).toBe('SLUICE_DUPLICATE_NAME');
    expect(partition.message).toMatch(/"src#1".*"src".*actor "src#1"|"src".*"src#1".*actor "src#1"/);
    const unifier = check((dag) => {
      const src = dag.add('src', NumberSource, undefined, { partitions: 2 });
      dag.stream('numbers', src.out, dag.add('sink', Pass).in);
      dag.stream('other', dag.add('src2', NumberSource).out, dag.add('numbers:unifier', Pass).in);
    });
    expectDagError(unifier, 'SLUICE_DUPLICATE_NAME', { operator: 'numbers:unifier' });
    expect(unifier.message).toContain('a unifier of operator "src"');
  });

  it.each([0, 1.5, -2])('rejects partitions: %s', (partitions) => {
    const err = check((dag) => {
      const src = dag.add('src', NumberSource);
      const part = dag.add('part', Pass, undefined, { partitions });
      dag.stream('numbers', src.out, part.in);
    });
    expectDagError(err, 'SLUICE_INVALID_ATTRIBUTE', { operator: 'part' });
    expect(err.message).toContain('partitions');
    expect(err.message).toContain(String(partitions));
  });

  it('rejects a thread-local stream into an operator that reads two streams', () => {
    const err = check((dag) => {
      const a = dag.add('a', NumberSource);
      const b = dag.add('b', NumberSource);
      const join = dag.add('join', Join);
      dag.stream('fused', a.out, join.left).locality('thread');
      dag.stream('queued', b.out, join.right);
    });
    expectDagError(err, 'SLUICE_LOCALITY', { operator: 'join', stream: 'fused' });
  });

  it('rejects a thread-local stream between different partition counts (found by planning, in app.dag())', () => {
    const err = dagErrorOf(() =>
      application('mismatch', (dag) => {
        const src = dag.add('src', NumberSource, {}, { partitions: 2 });
        const part = dag.add('part', Pass, undefined, { partitions: 3 });
        dag.stream('fused', src.out, part.in).locality('thread');
      }).dag(),
    );
    expectDagError(err, 'SLUICE_PARTITIONING', { operator: 'part', stream: 'fused' });
    expect(err.message).toMatch(/\b2\b/);
    expect(err.message).toMatch(/\b3\b/);
  });

  it('gives every DAG error a stable code and the class name DagError', () => {
    const err = check((dag) => {
      dag.add('src', NumberSource);
      dag.add('src', NumberSource);
    });
    expect(err).toBeInstanceOf(DagError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('DagError');
    expect(err.code).toMatch(/^SLUICE_[A-Z_]+$/);
  });
});
