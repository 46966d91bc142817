/** The operator library (like Apex Malhar): sources, transforms, unifiers and outputs. */
export { PassThroughUnifier } from '../src/index.ts';
export { Collected, CollectSink } from './collect-sink.ts';
export { ConsoleSink, type ConsoleSinkProps } from './console-sink.ts';
export { FileFence } from './file-fence.ts';
export { FileSink, type FileSinkProps } from './file-sink.ts';
export { FilterOperator } from './filter.ts';
export { MapOperator } from './map.ts';
export { SequenceSource, type SequenceSourceProps } from './sequence-source.ts';
