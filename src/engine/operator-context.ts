import type { OperatorContext } from '../api/context.ts';
import type { ActorPlan } from '../plan/physical-plan.ts';
import type { ActorHost } from './actor-host.ts';

export class MutableOperatorContext implements OperatorContext {
  windowId = 0;
  readonly operatorName: string;
  readonly actorId: string;
  readonly partition: number;
  readonly partitions: number;
  readonly applicationName: string;
  readonly streamingWindowMs: number;
  readonly applicationWindowCount: number;
  readonly epoch: number;

  constructor(
    plan: ActorPlan,
    private readonly host: ActorHost,
  ) {
    this.operatorName = plan.operator;
    this.actorId = plan.id;
    this.partition = plan.partition;
    this.partitions = plan.partitions;
    this.applicationName = host.applicationName;
    this.streamingWindowMs = host.streamingWindowMs;
    this.applicationWindowCount = plan.applicationWindowCount;
    // Fixed at construction: an instance keeps the epoch it was built in while later recoveries raise it.
    this.epoch = host.epoch;
  }

  get windowStartMs(): number {
    return this.host.windowStartMs(this.windowId);
  }

  wake(): void {
    this.host.wake();
  }

  get stopSignal(): AbortSignal {
    return this.host.stopSignal;
  }

  /** Not part of OperatorContext: for the library's window-fenced outputs (see RuntimeContext). */
  get storeUntouched(): boolean {
    return this.host.storeUntouched;
  }

  warn(message: string): void {
    this.host.warn(message);
  }
}
