/** The operator library (like Apex Malhar): sources, transforms, unifiers and outputs. */
export { PassThroughUnifier } from '../src/index.ts';
export { Collected, CollectSink } from './collect-sink.ts';
export { ConsoleSink, type ConsoleSinkProps } from './console-sink.ts';
export { FileFence } from './file-fence.ts';
export { FileSink, type FileSinkProps } from './file-sink.ts';
export { FilterOperator } from './filter.ts';
export * from './machine-data/index.ts';
export { MapOperator } from './map.ts';
export { parseReading, READING_FIELDS, READING_RANGES, readingToFields } from './redis/reading-fields.ts';
export {
  RedisApplyError,
  RedisAverageOutput,
  type RedisAverageOutputProps,
} from './redis/redis-average-output.ts';
export {
  type BadReading,
  RedisStreamReadings,
  type RedisStreamReadingsProps,
  type RedisStreamReadingsState,
} from './redis/redis-stream-readings.ts';
export { backoffMs, type RedisRetryEvent, type RedisRetryListener } from './redis/retry.ts';
export { SequenceSource, type SequenceSourceProps } from './sequence-source.ts';
