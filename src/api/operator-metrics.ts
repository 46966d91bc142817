/**
 * Operator-defined metrics (Apex's @AutoMetric): an operator declares a counter or a gauge with
 * `this.metric(name)` and updates it as it works; the runtime reads the values when a snapshot is taken
 * (never per tuple) and aggregates them across the operator's partitions.
 *
 * The values are transient, like any field outside `this.state`: a rebuilt instance starts at zero and the
 * runtime keeps the sum of the instances it replaced, so a counter never goes down. Work redone in a
 * replay is counted again (a counter says what the operator did, not what the output holds).
 */
import { SluiceError } from '../core/errors.ts';

/** How a gauge's partitions combine into the operator's value. Counters always sum. */
export type GaugeAggregate = 'sum' | 'max' | 'min' | 'avg';

export class MetricCounter {
  readonly kind = 'counter';
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class MetricGauge {
  readonly kind = 'gauge';
  value = 0;
  constructor(readonly aggregate: GaugeAggregate) {}
  set(v: number): void {
    this.value = v;
  }
}

export type OperatorMetric = MetricCounter | MetricGauge;

/** A metric name that Prometheus would refuse, or one name declared twice with different kinds. */
export class MetricNameError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_METRIC_NAME', message);
  }
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
const declared = new WeakMap<object, Map<string, OperatorMetric>>();

/** The metrics an operator instance declared (empty if none). */
export function metricsOf(operator: object): ReadonlyMap<string, OperatorMetric> {
  return declared.get(operator) ?? EMPTY;
}
const EMPTY: ReadonlyMap<string, OperatorMetric> = new Map();

export function declareMetric(
  operator: object,
  name: string,
  options: { kind?: 'counter' | 'gauge'; aggregate?: GaugeAggregate } = {},
): OperatorMetric {
  if (!NAME.test(name)) {
    throw new MetricNameError(
      `metric name "${name}" is not usable: use letters, digits and _ (not first a digit), at most 64`,
    );
  }
  const kind = options.kind ?? 'counter';
  let metrics = declared.get(operator);
  if (metrics === undefined) declared.set(operator, (metrics = new Map()));
  const existing = metrics.get(name);
  if (existing !== undefined) {
    if (existing.kind !== kind) {
      throw new MetricNameError(`metric "${name}" is declared both as a ${existing.kind} and a ${kind}`);
    }
    return existing;
  }
  const metric = kind === 'gauge' ? new MetricGauge(options.aggregate ?? 'sum') : new MetricCounter();
  metrics.set(name, metric);
  return metric;
}
