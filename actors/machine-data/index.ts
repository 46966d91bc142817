/** The machine-data case study's operators (seed 001): generator → dimensions → partial sums → averages. */
export { Average, type AverageProps } from './average.ts';
export { DeviceReadings, type DeviceReadingsProps } from './device-readings.ts';
export {
  ALL_COMBINATIONS,
  DEFAULT_RANGES,
  DimensionSpace,
  keyString,
  MachineDataConfigError,
} from './dimension-space.ts';
export { dimensionTuples, GenerateDimensions, type GenerateDimensionsProps } from './generate-dimensions.ts';
export { PrereqAverage, type PrereqAverageProps } from './prereq-average.ts';
export { ReadingGenerator, type ReadingGeneratorProps } from './reading-generator.ts';
export { SumPartials } from './sum-partials.ts';
export type * from './types.ts';
export { DIMENSION_FIELDS } from './types.ts';
