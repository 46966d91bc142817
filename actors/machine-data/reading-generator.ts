import { resolveRanges } from './dimension-space.ts';
import type { Reading, ReadingRanges } from './types.ts';

export interface ReadingGeneratorProps {
  /** Seeds the readings: the same seed and offset give the same reading. Default 1. */
  seed?: number;
  /** Ranges of the id and version fields (default DEFAULT_RANGES, the case study's). */
  ranges?: Partial<ReadingRanges>;
  /** cpu, ram and hdd are drawn uniformly from this integer range. Default [0, 100]. */
  usage?: readonly [number, number];
  /** Devices whose cpu is drawn from `hotUsage` instead (a device running hot). Default none. */
  hotDevices?: readonly number[];
  /** Default [80, 100]. */
  hotUsage?: readonly [number, number];
  /**
   * false (default, the case study's generator): every field drawn independently, so all dimension keys
   * occur. true: a device's customer, product and software versions are fixed (drawn from the seed and the
   * device id), as for a real fleet; fewer keys, and alerts name the devices that run hot.
   */
  fixedDeviceConfiguration?: boolean;
}

/**
 * The case study's generated readings: reading number `index` is a pure function of the seed and the
 * index (hashes, no Math.random), so a source that keeps its offset replays exactly. Shared by the
 * DeviceReadings operator and the bench's hand-written loop.
 */
export class ReadingGenerator {
  private readonly ranges: ReadingRanges;
  private readonly seed: number;
  private readonly usageMin: number;
  private readonly usageSpan: number;
  private readonly hotMin: number;
  private readonly hotSpan: number;
  private readonly hot: Set<number>;
  private readonly fixed: boolean;

  constructor(p: ReadingGeneratorProps = {}) {
    this.ranges = resolveRanges(p.ranges);
    this.seed = (p.seed ?? 1) | 0;
    [this.usageMin, this.usageSpan] = span(p.usage ?? [0, 100]);
    [this.hotMin, this.hotSpan] = span(p.hotUsage ?? [80, 100]);
    this.hot = new Set(p.hotDevices ?? []);
    this.fixed = p.fixedDeviceConfiguration ?? false;
  }

  /** The device of reading number `index`: what `at(index, …).device` is, for two hashes instead of twelve. */
  deviceAt(index: number): number {
    return pick(mix(mix(index ^ Math.imul(this.seed, 0x9e3779b9)) + 0x6d2b79f5), this.ranges.device);
  }

  /** The reading with global number `index` (a pure function of the seed and the index). */
  at(index: number, minute: number, day: number): Reading {
    const g = this.ranges;
    let h = mix(index ^ Math.imul(this.seed, 0x9e3779b9));
    const device = pick((h = mix(h + 0x6d2b79f5)), g.device);
    // A fixed configuration is drawn from the device id alone, the rest from the reading's own hash.
    let c = this.fixed ? mix(device ^ Math.imul(this.seed, 0x85ebca6b)) : h;
    const customer = pick((c = mix(c + 0x6d2b79f5)), g.customer);
    const product = pick((c = mix(c + 0x6d2b79f5)), g.product);
    const os = pick((c = mix(c + 0x6d2b79f5)), g.os);
    const software1 = pick((c = mix(c + 0x6d2b79f5)), g.software1);
    const software2 = pick((c = mix(c + 0x6d2b79f5)), g.software2);
    const software3 = pick((c = mix(c + 0x6d2b79f5)), g.software3);
    h = mix(h ^ c);
    const hot = this.hot.size > 0 && this.hot.has(device);
    const cpu = hot
      ? this.hotMin + ((h = mix(h + 0x6d2b79f5)) % this.hotSpan)
      : this.usage((h = mix(h + 0x6d2b79f5)));
    const ram = this.usage((h = mix(h + 0x6d2b79f5)));
    const hdd = this.usage(mix(h + 0x6d2b79f5));
    return { customer, product, os, software1, software2, software3, device, cpu, ram, hdd, minute, day };
  }

  /** h % span as in pick(). */
  private usage(h: number): number {
    const s = this.usageSpan;
    return this.usageMin + (h - Math.floor(h / s) * s);
  }
}

function span([min, max]: readonly [number, number]): [number, number] {
  return [min, max - min + 1];
}

/**
 * min + h % (max - min + 1), for a hash h < 2^32, by a division: V8 compiles `%` of numbers it cannot prove
 * int32 as a call to fmod, the largest cost of a reading. Exact for spans up to 2^20 (h / s is off from
 * the true quotient by far less than 1 / s, so its floor is the true quotient): the same readings as `%`.
 * Written out here and in usage() rather than in a helper, which left `at` over V8's inlining budget.
 */
function pick(h: number, [min, max]: readonly [number, number]): number {
  const s = max - min + 1;
  return min + (h - Math.floor(h / s) * s);
}

/** A 32-bit integer hash (murmur3's finalizer), unsigned. */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
