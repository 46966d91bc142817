/**
 * Tuples the input operators emitted over a whole run on containers, from what each container reports
 * (its own count, since its worker started). A replaced container starts counting again from 0, so
 * summing the live containers' counts would go back after a restart; the run's count must only grow,
 * as it does in one thread (the `window` event's `tuples`, `run.stats().tuples`).
 */
export class TupleTally {
  total = 0;

  /** `reporter` (a container, or its placement on a node) now counts `tuples`. */
  report(reporter: { tuples: number }, tuples: number): void {
    if (tuples > reporter.tuples) this.total += tuples - reporter.tuples;
    reporter.tuples = tuples;
  }
}
