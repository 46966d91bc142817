/** The operator library (like Apex Malhar): sources, transforms, unifiers and outputs. */
export { PassThroughUnifier } from '../src/index.ts';
export { Collected, CollectSink } from './collect-sink.ts';
export { ConsoleSink, type ConsoleSinkProps } from './console-sink.ts';
export { FileFence } from './file-fence.ts';
export { FileSink, type FileSinkProps } from './file-sink.ts';
export { LineFileTruncatedError } from './files/errors.ts';
export {
  type InvalidLine,
  LineFileInput,
  type LineFileInputProps,
  type LineFileState,
} from './files/line-file-input.ts';
export { FilterOperator } from './filter.ts';
export * from './machine-data/index.ts';
export { MapOperator } from './map.ts';
export { InvalidPropsError } from './props.ts';
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
export {
  backoffMs,
  RedisConfigError,
  type RedisRetryEvent,
  type RedisRetryListener,
  RedisUnavailableError,
  stderrRetryListener,
} from './redis/retry.ts';
export { SequenceSource, type SequenceSourceProps } from './sequence-source.ts';
export { type AlertMessageProps, alertMessageId, headerValue } from './smtp/alert-message.ts';
export { AlertConfigError, SmtpRejectedError } from './smtp/errors.ts';
export { MailboxAlert, type MailboxAlertProps } from './smtp/mailbox-alert.ts';
export { type AlertClock, RateLimiter } from './smtp/rate-limiter.ts';
export { SmtpAlert, type SmtpAlertProps } from './smtp/smtp-alert.ts';
