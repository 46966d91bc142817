import type { KeyEncoding } from './case-study-workload.ts';

/** What every bench section gets. */
export interface BenchOptions {
  /** How the case-study pipeline keeps its per-key sums (`--keys`), the same in every variant. */
  readonly keys: KeyEncoding;
  /** A small workload, for a smoke run: the figures are not meaningful. */
  readonly quick: boolean;
  /** Measured runs per variant. */
  readonly runs: number;
  /**
   * Throughput runs each in a fresh child process (default); off (`--in-process`), they all run in this
   * process after a warm-up run, and sluice's fused figures depend on what ran before (see the README).
   */
  readonly isolate: boolean;
  /** Progress notes (stderr), so stdout holds only the report. */
  readonly progress: (line: string) => void;
}

/** A section's figures: printed as `lines`, and merged into the one JSON object under `--json`. */
export interface SectionReport {
  readonly lines: readonly string[];
  readonly figures: Readonly<Record<string, number | string>>;
  /** Results that are wrong, not slow (a checksum that differs): printed, and the bench exits 1. */
  readonly wrong?: readonly string[];
}

/** One part of the bench (the case study, the mailbox hop; later checkpoint overhead, recovery time). */
export interface Section {
  readonly title: string;
  run(options: BenchOptions): Promise<SectionReport>;
}

/** A result that is wrong, not slow (a checksum mismatch): the bench exits non-zero. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}
