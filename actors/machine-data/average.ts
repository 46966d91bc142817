import { Operator, type OperatorContext } from '../../src/index.ts';
import { checkProps } from '../props.ts';
import { DimensionSpace, dayOf, keyString, minuteOf, resolveRanges } from './dimension-space.ts';
import { newSumColumns, type SumColumns, SumIndex } from './keyed-sums.ts';
import type { Alert, AverageRecord, PartialSum, ReadingRanges, Resource } from './types.ts';

export interface AverageProps {
  /** An average above it raises an Alert for that resource (the case study's 70 %). Default 70. */
  alertThreshold?: number;
  /** The ranges GenerateDimensions encodes keys with (to name a key's fields). Default DEFAULT_RANGES. */
  ranges?: Partial<ReadingRanges>;
}

const RESOURCES: readonly Resource[] = ['cpu', 'ram', 'hdd'];

/**
 * Average: adds up the partial sums per dimension key and minute over an application window and, at its
 * end, emits on `out` one AverageRecord per key (cpu, ram and hdd averages, rounded to 1/100) and on
 * `alerts` one Alert per resource whose average is above `alertThreshold`. Keys become strings only here,
 * once per key and window. `window` in both is the streaming window that closed the application window.
 */
export class Average extends Operator<{ sums: SumColumns }, AverageProps> {
  readonly out = this.output<AverageRecord>();
  readonly alerts = this.output<Alert>();
  readonly in = this.input<PartialSum>((p) =>
    this.index.add(this.state.sums, p.time, p.key, p.cpu, p.ram, p.hdd, p.count),
  );
  private index = new SumIndex();
  private space!: DimensionSpace;
  private ctx!: OperatorContext;

  constructor(props?: AverageProps) {
    super(props);
    checkProps('Average', this.props, { alertThreshold: 'finite' });
    resolveRanges(this.props.ranges);
  }

  override initialState() {
    return { sums: newSumColumns() };
  }

  override setup(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.space = new DimensionSpace(this.props.ranges);
    this.index = new SumIndex(this.space.keyCount);
    this.index.attach(this.state.sums);
  }

  override endWindow(): void {
    const c = this.state.sums;
    const threshold = this.props.alertThreshold ?? 70;
    const window = this.ctx.windowId;
    for (let row = 0; row < c.size; row++) {
      const count = c.count[row]!;
      if (count === 0) continue;
      const time = c.time[row]!;
      const fields = this.space.decode(c.key[row]!);
      const day = dayOf(time);
      const minute = minuteOf(time);
      const key = keyString(fields, day, minute);
      const cpu = round2(c.cpu[row]! / count);
      const ram = round2(c.ram[row]! / count);
      const hdd = round2(c.hdd[row]! / count);
      // One literal of a fixed shape per record (no spread): 78,336 of them per application window.
      this.out.emit({ key, fields, day, minute, window, cpu, ram, hdd, count });
      if (cpu > threshold || ram > threshold || hdd > threshold) {
        const usage = { cpu, ram, hdd };
        for (const resource of RESOURCES) {
          if (usage[resource] > threshold) {
            this.alerts.emit({
              key,
              fields: { ...fields },
              day,
              minute,
              window,
              resource,
              usage: usage[resource],
              threshold,
            });
          }
        }
      }
    }
    this.state.sums = this.index.clear(c);
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
