import { describe, expect, it } from 'vitest';
import {
  Average,
  ConsoleSink,
  DeviceReadings,
  FileSink,
  FilterOperator,
  GenerateDimensions,
  InvalidPropsError,
  LineFileInput,
  MapOperator,
  PrereqAverage,
  SequenceSource,
} from '../../actors/index.ts';
import { application } from '../../src/index.ts';

/*
 * The library's operators refuse props that cannot work when they are added to a DAG, naming the operator
 * and the prop: before, a source of `tuplesPerWindow: -1` or `'5'` ran and emitted nothing, a FileSink
 * without `dir` and a MapOperator without `fn` failed in each of their restarts.
 */
type AnyClass = new (props?: any) => unknown;
const refused: [string, AnyClass, object, RegExp][] = [
  [
    'SequenceSource',
    SequenceSource,
    { tuplesPerWindow: -1 },
    /props\.tuplesPerWindow must be an integer ≥ 0 \(got -1\)/,
  ],
  ['SequenceSource', SequenceSource, { tuplesPerWindow: '5' }, /props\.tuplesPerWindow .*\(got "5"\)/],
  ['SequenceSource', SequenceSource, { batch: 0 }, /props\.batch must be an integer ≥ 1/],
  [
    'DeviceReadings',
    DeviceReadings,
    { readingsPerWindow: -1 },
    /props\.readingsPerWindow must be a finite number ≥ 0/,
  ],
  [
    'DeviceReadings',
    DeviceReadings,
    { partitionBy: 'x' },
    /props\.partitionBy must be one of "sequence", "device"/,
  ],
  ['DeviceReadings', DeviceReadings, { ranges: { device: [5, 1] } }, /range of device: \[5, 1\]/],
  ['GenerateDimensions', GenerateDimensions, { combinations: [['nope']] }, /unknown dimension field "nope"/],
  ['GenerateDimensions', GenerateDimensions, { batchReadings: 0 }, /props\.batchReadings/],
  ['PrereqAverage', PrereqAverage, { ranges: { os: [1, 0] } }, /range of os/],
  ['Average', Average, { alertThreshold: 'x' }, /props\.alertThreshold must be a finite number/],
  ['FileSink', FileSink, {}, /props\.dir must be a non-empty path \(got nothing\)/],
  ['FileSink', FileSink, { dir: ' ' }, /props\.dir/],
  ['LineFileInput', LineFileInput, { path: '' }, /props\.path/],
  ['LineFileInput', LineFileInput, { path: 'x', linesPerCall: 0 }, /props\.linesPerCall/],
  ['MapOperator', MapOperator, {}, /props\.fn must be a function/],
  [
    'FilterOperator',
    FilterOperator,
    { predicate: 'yes' },
    /props\.predicate must be a function \(got "yes"\)/,
  ],
  ['ConsoleSink', ConsoleSink, { prefix: 5 }, /props\.prefix must be a string/],
];

describe('library operators check their props', () => {
  it.each(refused)('%s %j is refused by dag.add', (_name, cls, props, message) => {
    const app = application('props', (dag) => {
      dag.add('op', cls as never, props as never);
    });
    expect(() => app.dag()).toThrow(message);
    try {
      app.dag();
    } catch (e) {
      expect((e as { code?: string }).code).toMatch(/^SLUICE_(INVALID_PROPS|MACHINE_DATA_CONFIG)$/);
      expect((e as { restartable?: boolean }).restartable).toBe(false);
    }
  });

  it('accepts the defaults and sensible values', () => {
    for (const [cls, props] of [
      [SequenceSource, { tuplesPerWindow: 0, batch: 1 }],
      [DeviceReadings, { readingsPerWindow: 0, partitionBy: 'device', seed: 7 }],
      [GenerateDimensions, { combinations: [['customer'], []] }],
      [Average, { alertThreshold: 70 }],
      [FileSink, { dir: 'out' }],
      [LineFileInput, { path: 'in.txt', linesPerWindow: 0 }],
      [MapOperator, { fn: (x: number) => x }],
      [FilterOperator, { predicate: () => true }],
      [ConsoleSink, {}],
    ] as [AnyClass, object][]) {
      expect(() => new cls(props)).not.toThrow();
    }
    expect(new InvalidPropsError('Op', 'why').message).toBe('Op: why');
  });
});
